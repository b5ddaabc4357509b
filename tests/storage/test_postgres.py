"""The store on a real PostgreSQL server: the dialect, the adapter, the writer lock,
and typed errors for a URL that does not lead to a store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.deployment import Deployment
from facegate.errors import SchemaTooNew, StorageError, StoreKeysRequired, StoreNotFound
from facegate.storage.connection import Connection, IntegrityError, dialect
from facegate.storage.db import (
    checkpoint_wal,
    connect,
    data_version,
    is_url,
    migrations,
    redact_url,
    snapshot,
    transaction,
)

from ..support.postgres import PostgresServer
from ..support.words import both

NOW = datetime(2025, 9, 1, tzinfo=UTC)
SITE = ("x", "n", "office", True, None, False, NOW.isoformat())


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("store")


@pytest.fixture
def conn(url: str) -> Iterator[Connection]:
    c = connect(url, now=NOW, create=True)
    yield c
    c.close()


def test_placeholders_become_pyformat_outside_quotes_and_comments() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    from facegate.storage.postgres import to_pyformat

    assert to_pyformat("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = %s AND c = %s")
    assert to_pyformat("SELECT '?', \"a?\", ? -- why?\n, ?") == (
        "SELECT '?', \"a?\", %s -- why?\n, %s")
    assert to_pyformat("SELECT 'it''s ?', ?, '50%'") == "SELECT 'it''s ?', %s, '50%%'"


def test_urls_are_told_from_paths_and_passwords_are_redacted() -> None:
    assert is_url("postgresql://u@h/db") and is_url("postgres://h/db")
    assert not is_url("facegate.db") and not is_url(Path("postgresql:/x"))
    assert redact_url("postgresql://me:s3cret@db.example/fg") == (
        "postgresql://me:***@db.example/fg")


def test_migrations_on_postgresql(url: str, conn: Connection) -> None:
    assert dialect(conn) == "postgresql"
    conn.close()
    again = connect(url, now=NOW)  # a second open applies nothing
    applied = again.execute("SELECT version, name FROM schema_migrations "
                            "ORDER BY version").fetchall()
    assert applied == [(n, name) for n, name, _ in migrations()]

    def column(table: str, name: str) -> tuple[str, str | None]:
        row = again.execute("SELECT data_type, collation_name FROM information_schema.columns "
                            "WHERE table_name = ? AND column_name = ?", (table, name)).fetchone()
        return str(row[0]), row[1]

    assert column("templates", "descriptor")[0] == "bytea"
    assert column("templates", "id")[0] == "bigint"
    assert column("purposes", "threshold")[0] == "double precision"  # not float4
    assert column("review_cases", "distance")[0] == "double precision"
    assert column("templates", "expires_at") == ("text", "C")  # byte order, as in SQLite
    assert data_version(again) is None and checkpoint_wal(again)
    again.close()


def test_a_newer_schema_or_a_foreign_database_is_refused(
        postgres_server: PostgresServer, url: str, conn: Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(SchemaTooNew):
        connect(url, now=NOW)
    other_url = postgres_server.create_database("other")
    with pytest.raises(StoreNotFound):  # an empty database is no store until init
        connect(other_url, now=NOW)
    other = connect(other_url, now=NOW, create=True)
    other.execute("DROP TABLE schema_migrations")  # facegate's tables, no facegate schema
    other.close()
    with pytest.raises(StorageError, match="another application"):
        connect(other_url, now=NOW)


def test_rows_are_tuples_bytes_and_ints(conn: Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", SITE)  # bools as 0/1
        conn.execute("INSERT INTO audit_checkpoint (id, seq, head, key_id, signature, signed_at) "
                     "VALUES (1, ?, ?, ?, ?, ?)", (3, "h", "k", b"\x00\x01sig", NOW.isoformat()))
    assert conn.execute("SELECT public_place, signage_attested FROM sites").fetchone() == (1, 0)
    (signature,) = conn.execute("SELECT signature FROM audit_checkpoint").fetchone()
    assert type(signature) is bytes and signature == b"\x00\x01sig"
    assert conn.execute("SELECT '?', ?, 'a%b'", ("x",)).fetchone() == ("?", "x", "a%b")
    assert conn.execute("UPDATE sites SET name = ? WHERE key = ?", ("m", "x")).rowcount == 1
    assert conn.execute("DELETE FROM sites WHERE key = ?", ("none",)).fetchone() is None
    assert [r for r in conn.execute("SELECT key FROM sites")] == [("x",)]
    with pytest.raises(IntegrityError), transaction(conn):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", SITE)
    assert not conn.in_transaction


def test_transaction_rolls_back_on_error_and_commits_listed_errors(conn: Connection) -> None:
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", SITE)
        raise RuntimeError("boom")
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 0
    with pytest.raises(KeyError), transaction(conn, commit_on=(KeyError,)):
        conn.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", SITE)
        raise KeyError("kept")
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 1


def test_writers_are_serialised_and_a_snapshot_does_not_move(url: str,
                                                             conn: Connection) -> None:
    other = connect(url, now=NOW)
    order: list[str] = []
    started = threading.Event()

    def second_writer() -> None:
        started.set()
        with transaction(other):
            order.append("second")

    with transaction(conn):
        thread = threading.Thread(target=second_writer)
        thread.start()
        started.wait()
        time.sleep(0.3)  # the second writer is now waiting for the lock
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]
    with snapshot(conn):
        before = conn.execute("SELECT count(*) FROM sites").fetchone()[0]
        with transaction(other):
            other.execute("INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", SITE)
        assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == before + 1
    other.close()


def test_an_unreachable_server_or_a_missing_database_is_a_storage_error(
        postgres_server: PostgresServer) -> None:
    with pytest.raises(StorageError) as exc:
        connect("postgresql://me:s3cret@127.0.0.1:1/nothing?connect_timeout=3", now=NOW)
    assert "s3cret" not in str(exc.value) and "s3cret" not in str(exc.value.details)
    assert exc.value.details["url"] == "postgresql://me:***@127.0.0.1:1/nothing?connect_timeout=3"
    with pytest.raises(StorageError, match="cannot open the PostgreSQL store"):
        connect(postgres_server.url("no_such_database"), now=NOW)


def test_opening_an_unreachable_url_is_a_storage_error(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    with pytest.raises(StorageError) as exc:
        Deployment.open("postgresql://me:s3cret@127.0.0.1:1/fg?connect_timeout=3",
                        keys=tmp_path / "k.keys", create=True)
    assert exc.value.code == "storage.error" and "s3cret" not in exc.value.message
    assert not (tmp_path / "k.keys").exists()


def test_a_url_needs_keys_given_or_in_the_environment(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreKeysRequired) as exc:
        Deployment.open(url, environ={"FACEGATE_KEK": "x"})
    assert exc.value.code == "storage.keys_required"
    env = {"FACEGATE_KEK": "A" * 43 + "=", "FACEGATE_AUDIT_KEY": "B" * 43 + "="}
    with Deployment.open(url, environ=env, create=True) as d:  # nothing secret written
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X")
        assert d.verify_audit().entries == 1
    with Deployment.open(url, environ=env) as d:
        assert d.verify_audit().entries == 1
    with Deployment.open(url, keys=tmp_path / "k.keys", environ=env) as d:
        assert d.verify_audit().entries == 1
    assert not (tmp_path / "k.keys").exists()  # both keys from the environment
