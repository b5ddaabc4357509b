"""Human review of identification hits (R19) and identification sessions (R20)."""
