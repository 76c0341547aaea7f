"""Staff commands to stations (issue 12 §3)."""
