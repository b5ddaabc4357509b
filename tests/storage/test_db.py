"""Migrations, the store's identity, and one transaction per call."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.errors import SchemaTooNew, StorageError, StoreNotFound
from facegate.storage.db import APPLICATION_ID, connect, migrations, transaction

NOW = datetime(2025, 9, 1, tzinfo=UTC)


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    numbers = [n for n, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))  # 0001, 0002, ... with no gap
    conn = connect(tmp_path / "a.db", now=NOW, create=True)
    conn.close()
    conn = connect(tmp_path / "a.db", now=NOW)
    applied = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert applied == [(n, name) for n, name, _ in migrations()]
    assert applied[:2] == [(1, "governed_core"), (2, "protected_storage")]
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


def test_a_newer_schema_or_a_foreign_database_is_refused(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db", now=NOW, create=True)
    with transaction(conn):
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.close()
    with pytest.raises(SchemaTooNew):
        connect(tmp_path / "a.db", now=NOW)
    other = sqlite3.connect(tmp_path / "b.db")
    other.execute("CREATE TABLE notes (x)")
    other.commit()
    other.close()
    with pytest.raises(StorageError):
        connect(tmp_path / "b.db", now=NOW)


def test_migration_sql_uses_only_the_dialect_tokens() -> None:
    for _, _, sql in migrations():
        body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
        assert "AUTOINCREMENT" not in body and "BLOB" not in body.upper().replace("{BLOB}", "")
        assert re.search(r"\bREAL\b", body.upper().replace("{REAL}", "")) is None
        assert "PRAGMA" not in body.upper() and "ROWID" not in body.upper()


def test_transaction_rolls_back_on_error_and_commits_listed_errors(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db", now=NOW, create=True)
    row = ("x", "n", "office", 0, None, 0, NOW.isoformat())
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        raise RuntimeError("boom")
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 0
    with pytest.raises(KeyError), transaction(conn, commit_on=(KeyError,)):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        raise KeyError("kept")
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 1
    conn.close()


def test_a_store_that_does_not_exist_is_not_created_by_opening_it(tmp_path: Path) -> None:
    """A mistyped path is an error, not an empty store (only ``init`` creates one)."""
    for target in (tmp_path / "typo.db", tmp_path / "empty.db"):
        if target.name == "empty.db":
            target.touch()
        with pytest.raises(StoreNotFound) as exc:
            connect(target, now=NOW)
        assert exc.value.code == "storage.not_found"
    assert not (tmp_path / "typo.db").exists()
    assert (tmp_path / "empty.db").stat().st_size == 0
