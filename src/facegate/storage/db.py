"""Connections, transactions and migrations for the embedded SQLite store.

:func:`connect` opens (and creates) a deployment database, applies pending
numbered migrations from :mod:`facegate.storage.migrations` and returns a
connection in autocommit mode, so that :func:`transaction` alone decides where
a unit of work begins and ends. Each service call runs in exactly one
transaction: its records, its templates and its audit entry commit together.

The migrations are portable SQL with two dialect tokens (``{id}``, ``{blob}``)
that :data:`SQLITE` fills in; a PostgreSQL dialect can be added beside it.
Every connection sets ``PRAGMA secure_delete``, so deleted rows (an erased
subject's wrapped data key, expired templates) are overwritten with zeros in
the file instead of lingering in free pages; :func:`checkpoint_wal` then moves
the overwritten pages out of the write-ahead log into the main file and
truncates the log.
The database carries SQLite's ``application_id`` :data:`APPLICATION_ID` so that
tools (the R&D loader, R24) can recognise a production store by its header.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

from ..errors import SchemaTooNew, StorageError

__all__ = ["APPLICATION_ID", "SQLITE", "Migration", "checkpoint_wal", "connect", "migrations",
           "transaction"]

#: ``PRAGMA application_id`` of a facegate store: ASCII "FGAT".
APPLICATION_ID: Final = 0x46474154

#: The SQLite spelling of the dialect tokens used in migrations.
SQLITE: Final[Mapping[str, str]] = MappingProxyType({
    "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "blob": "BLOB",
})

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Migration = tuple[int, str, str]


def migrations() -> list[Migration]:
    """Every shipped migration as ``(number, name, sql)``, in order."""
    found: list[Migration] = []
    for entry in resources.files("facegate.storage.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    return sorted(found)


def connect(path: str | Path, *, now: datetime) -> sqlite3.Connection:
    """Open the deployment store at ``path``, creating and migrating it as needed.

    Args:
        path: the SQLite file.
        now: the time recorded for migrations applied now.

    Raises:
        SchemaTooNew: the file was migrated by a newer facegate.
        StorageError: the file is not a facegate store.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        _claim(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, now)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StorageError(f"{path} is not a usable facegate store: {exc}",
                           details={"path": str(path)}) from None
    except BaseException:
        conn.close()
        raise
    return conn


def checkpoint_wal(conn: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the main file and truncate it; ``True`` when complete.

    Incomplete while another connection still reads an older snapshot; the next
    checkpoint finishes the job.
    """
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(busy) == 0


def _claim(conn: sqlite3.Connection) -> None:
    """Mark a new file as a facegate store; refuse another application's database.

    Runs before WAL is switched on, so the id lands in the main file's header.
    """
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if has_tables and app_id != APPLICATION_ID:
        raise StorageError("the file holds another application's database",
                           details={"application_id": app_id})
    if app_id != APPLICATION_ID:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")


def _migrate(conn: sqlite3.Connection, now: datetime) -> None:
    with transaction(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        known = migrations()
        newest = max((n for n, _, _ in known), default=0)
        if applied and max(applied) > newest:
            raise SchemaTooNew(
                f"the store is at schema {max(applied)}, this facegate knows up to {newest}; "
                "upgrade facegate",
                details={"store": max(applied), "known": newest},
            )
        for number, name, sql in known:
            if number in applied:
                continue
            for statement in _statements(sql.format_map(SQLITE)):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                         "VALUES (?, ?, ?)", (number, name, now.isoformat()))


def _statements(sql: str) -> Iterator[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    for chunk in "\n".join(lines).split(";"):
        if chunk.strip():
            yield chunk.strip()


@contextmanager
def transaction(conn: sqlite3.Connection, *,
                commit_on: tuple[type[BaseException], ...] = ()) -> Iterator[sqlite3.Connection]:
    """One unit of work: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on an error.

    Args:
        commit_on: exceptions that still commit before propagating. The service
            layer passes policy refusals, so the record of a refusal is kept
            (the gate decides before anything else is written).

    Nested use joins the outer transaction.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except commit_on:
        conn.execute("COMMIT")
        raise
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
