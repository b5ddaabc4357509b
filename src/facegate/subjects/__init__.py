"""Data subjects: pseudonymous ids and what is needed for the minors rule (R5)."""
