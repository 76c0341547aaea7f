"""Reservations: members book a PC ahead (issue 12 §2)."""
