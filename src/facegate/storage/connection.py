"""What the rest of facegate may do with a store connection, on either database.

:class:`Connection` is a typing protocol covering exactly what the SQL modules
use: ``execute`` and ``executemany`` with ``?`` placeholders, returning a
:class:`Cursor` of plain tuples (``fetchone``, ``fetchall``, iteration,
``rowcount``), ``in_transaction`` and ``close``. A :class:`sqlite3.Connection`
satisfies it as it is; :class:`facegate.storage.postgres.PostgresConnection`
satisfies it over psycopg 3 (imported only when a PostgreSQL store is opened).

SQL written against it stays portable: ``?`` placeholders, ``RETURNING id``
instead of ``lastrowid``, ``INSERT ... ON CONFLICT DO NOTHING`` instead of
``INSERT OR IGNORE``, no ``rowid`` and no ``PRAGMA`` outside
:mod:`facegate.storage.db`, which is the one place that knows the dialect.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

__all__ = ["Connection", "Cursor", "Dialect", "IntegrityError", "dialect"]

#: The databases a store can live in.
Dialect = Literal["sqlite", "postgresql"]

#: What a write that breaks a constraint (a taken primary key, a foreign key)
#: raises, on either database: the PostgreSQL adapter raises a subclass of it.
IntegrityError = sqlite3.IntegrityError


class Cursor(Protocol):
    """The result of one statement: rows as tuples, and how many rows it changed."""

    @property
    def rowcount(self) -> int:
        """Rows changed by an ``INSERT``, ``UPDATE`` or ``DELETE``."""
        ...

    def fetchone(self) -> Any:
        """The next row as a tuple, or ``None`` when there is none."""
        ...

    def fetchall(self) -> list[Any]:
        """The remaining rows as tuples."""
        ...

    def __iter__(self) -> Iterator[Any]:
        """The remaining rows, one tuple at a time."""
        ...


class Connection(Protocol):
    """A store connection in autocommit mode; :func:`facegate.storage.db.transaction`
    alone begins and ends units of work."""

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor:
        """Run one statement with ``?`` placeholders."""
        ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        """Run one statement once per parameter row."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


def dialect(conn: Connection) -> Dialect:
    """Which database ``conn`` talks to."""
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "postgresql"
