"""The floor: every station with its active session in one read, for staff screens."""
