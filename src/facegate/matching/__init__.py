"""Verification (1:1) and identification (1:N) against a purpose's templates."""
