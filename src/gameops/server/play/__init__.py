"""Self-service at the PC: log in, pay as you go from a balance or a guest ticket, log out."""
