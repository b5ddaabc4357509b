"""Consent as an append-only ledger (R2-R5) and the non-biometric alternative path (R7)."""
