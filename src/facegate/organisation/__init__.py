"""The processor (the organisation) and its sites (where capture happens)."""
