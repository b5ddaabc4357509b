"""The store: connections (SQLite or PostgreSQL), transactions and numbered migrations.

:class:`Connection` is what every SQL module takes; see
:mod:`facegate.storage.connection` and :mod:`facegate.storage.db`.
"""

from .connection import Connection, Cursor, Dialect, IntegrityError, dialect

__all__ = ["Connection", "Cursor", "Dialect", "IntegrityError", "dialect"]
