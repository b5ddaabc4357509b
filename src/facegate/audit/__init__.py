"""The processing log: hash-chained entries with a signed checkpoint (R15)."""
