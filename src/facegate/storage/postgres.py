"""The PostgreSQL side of the store: a :class:`~facegate.storage.connection.Connection`
over psycopg 3.

Imported only when a ``postgresql://`` store is opened (psycopg is the
``postgres`` extra). The adapter takes the same SQL as SQLite does:

- ``?`` placeholders become psycopg's ``%s`` (and a literal ``%`` becomes
  ``%%``), never inside a string literal, a quoted identifier or a comment;
- rows come back as plain tuples, ``BYTEA`` as :class:`bytes`;
- a Python ``bool`` parameter is sent as ``0``/``1``, as sqlite3 stores it
  (booleans are integer columns in the portable schema);
- a constraint violation raises :class:`PostgresIntegrityError`, a subclass of
  :data:`facegate.storage.connection.IntegrityError`, and every other database
  failure a typed :class:`~facegate.errors.StorageError`, never a psycopg
  exception.

The connection is in autocommit mode, like the SQLite one;
:func:`facegate.storage.db.transaction` issues ``BEGIN`` and takes the writer
lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from ..errors import StorageError
from .connection import IntegrityError
from .db import redact_url

__all__ = ["PostgresConnection", "PostgresCursor", "PostgresIntegrityError", "open_postgres",
           "to_pyformat"]


class PostgresIntegrityError(IntegrityError):
    """A PostgreSQL constraint violation, raised as what sqlite3 raises."""


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``sql`` with ``?`` placeholders as ``%s`` and ``%`` as ``%%``, outside quotes and
    comments (a ``%`` is doubled everywhere: psycopg reads every one)."""
    out: list[str] = []
    quote: str | None = None
    comment = False
    for i, ch in enumerate(sql):
        if ch == "%":
            out.append("%%")
            continue
        if comment:
            comment = ch != "\n"
        elif quote is not None:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "-" and sql.startswith("--", i):
            comment = True
        elif ch == "?":
            out.append("%s")
            continue
        out.append(ch)
    return "".join(out)


def _param(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _params(parameters: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_param(v) for v in parameters)


def _row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    if any(isinstance(v, memoryview) for v in row):
        return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
    return row


def _failure(exc: psycopg.Error) -> Exception:
    """The typed error for a psycopg failure."""
    if isinstance(exc, psycopg.errors.IntegrityError):
        return PostgresIntegrityError(str(exc))
    return StorageError(f"the PostgreSQL store failed: {exc}".strip(),
                        details={"sqlstate": exc.sqlstate})


class PostgresCursor:
    """One statement's result, shaped like a :class:`sqlite3.Cursor`."""

    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        """Rows changed by an ``INSERT``, ``UPDATE`` or ``DELETE``."""
        return self._cursor.rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or ``None`` (also for a statement that returns no rows)."""
        if self._cursor.description is None:
            return None
        try:
            row = self._cursor.fetchone()
        except psycopg.Error as exc:
            raise _failure(exc) from None
        return None if row is None else _row(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The remaining rows."""
        if self._cursor.description is None:
            return []
        try:
            rows = self._cursor.fetchall()
        except psycopg.Error as exc:
            raise _failure(exc) from None
        return [_row(r) for r in rows]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class PostgresConnection:
    """A psycopg 3 connection (autocommit) that takes facegate's portable SQL."""

    def __init__(self, raw: psycopg.Connection[tuple[Any, ...]]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed and not yet rolled back)."""
        return self.raw.info.transaction_status in (
            TransactionStatus.INTRANS, TransactionStatus.INERROR, TransactionStatus.ACTIVE)

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PostgresCursor:
        """Run one statement with ``?`` placeholders."""
        cursor = self.raw.cursor()
        try:
            cursor.execute(to_pyformat(sql), _params(parameters))
        except psycopg.Error as exc:
            raise _failure(exc) from None
        return PostgresCursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> PostgresCursor:
        """Run one statement once per parameter row."""
        cursor = self.raw.cursor()
        try:
            cursor.executemany(to_pyformat(sql), [_params(p) for p in parameters])
        except psycopg.Error as exc:
            raise _failure(exc) from None
        return PostgresCursor(cursor)

    def wait_notify(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for a ``NOTIFY`` on a channel this connection
        ``LISTEN``s on; ``True`` when one came (the others that came with it are drained)."""
        try:
            got = False
            for _ in self.raw.notifies(timeout=timeout, stop_after=1):
                got = True
            return got
        except psycopg.Error as exc:
            raise _failure(exc) from None

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back by the server)."""
        self.raw.close()


def open_postgres(url: str) -> PostgresConnection:
    """Connect to the PostgreSQL database at ``url`` in autocommit mode.

    Raises:
        StorageError: the server cannot be reached, refuses the login, or the
            database does not exist.
    """
    try:
        if "connect_timeout" in url:
            raw = psycopg.connect(url, autocommit=True)
        else:
            raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StorageError(f"cannot open the PostgreSQL store {redact_url(url)}: "
                           f"{str(exc).strip() or type(exc).__name__}",
                           details={"url": redact_url(url)}) from None
    return PostgresConnection(raw)
