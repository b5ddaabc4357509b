"""Embedded storage: connections, transactions and numbered migrations."""
