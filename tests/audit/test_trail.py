"""The audit log is hash-chained with a signed checkpoint (R15).

Editing, deleting or reordering any single entry, or cutting entries off the
end, makes verification fail and name the first broken entry; an untouched log
verifies; the log holds no biometric bytes and keeps entries of erased subjects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.audit.chain import entry_hash
from facegate.cli import cli
from facegate.deployment import Deployment
from facegate.errors import AuditChainBroken, InvalidArgument, PolicyRefusal

from ..support.storage import backup

_COLUMNS = "at, name, operator, purpose_key, subject_id, outcome, rule, detail, hash"


@contextmanager
def _tampered(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Alter the log inside a transaction that is rolled back afterwards."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


def _broken_at(d: Deployment, tamper: Callable[[sqlite3.Connection], object]) -> int:
    with _tampered(d.connection) as conn:
        tamper(conn)
        with pytest.raises(AuditChainBroken) as exc:
            d.verify_audit()
    assert exc.value.code == "audit.chain_broken"
    return int(exc.value.details["seq"])


def _swap(a: int, b: int) -> Callable[[sqlite3.Connection], None]:
    def tamper(conn: sqlite3.Connection) -> None:
        rows = {seq: conn.execute(f"SELECT {_COLUMNS} FROM audit_events WHERE seq = ?",
                                  (seq,)).fetchone() for seq in (a, b)}
        sets = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
        for seq, other in ((a, b), (b, a)):
            conn.execute(f"UPDATE audit_events SET {sets} WHERE seq = ?", (*rows[other], seq))
    return tamper


def test_r15_an_untouched_log_verifies(books: Deployment) -> None:
    report = books.verify_audit()
    assert report.entries == len(books.audit_events()) == report.checkpoint_seq >= 10


def test_r15_editing_deleting_or_reordering_any_entry_names_it(books: Deployment) -> None:
    last = len(books.audit_events())
    for seq in range(1, last + 1):
        assert _broken_at(books, lambda c, s=seq: c.execute(
            "UPDATE audit_events SET outcome = 'forged' WHERE seq = ?", (s,))) == seq
        assert _broken_at(books, lambda c, s=seq: c.execute(
            "UPDATE audit_events SET detail = '{}' || detail WHERE seq = ?", (s,))) == seq
        assert _broken_at(books, lambda c, s=seq: c.execute(
            "DELETE FROM audit_events WHERE seq = ?", (s,))) == seq
        if seq < last:
            assert _broken_at(books, _swap(seq, seq + 1)) == seq
            assert _broken_at(books, lambda c, s=seq: c.execute(
                "DELETE FROM audit_events WHERE seq > ?", (s,))) == seq + 1  # truncated
    books.verify_audit()  # every tamper was rolled back


def test_r15_a_rewritten_chain_or_checkpoint_is_caught(books: Deployment) -> None:
    def rewrite(conn: sqlite3.Connection) -> None:
        """Edit entry 3 and recompute every hash after it (but not the signature)."""
        conn.execute("UPDATE audit_events SET operator = 'mallory' WHERE seq = 3")
        prev = conn.execute("SELECT hash FROM audit_events WHERE seq = 2").fetchone()[0]
        for row in conn.execute("SELECT seq, at, name, operator, purpose_key, subject_id, "
                                "outcome, rule, detail, hash FROM audit_events WHERE seq >= 3 "
                                "ORDER BY seq").fetchall():
            prev = entry_hash(prev, row)
            conn.execute("UPDATE audit_events SET hash = ? WHERE seq = ?", (prev, row[0]))

    last = len(books.audit_events())
    # The edited entry's tag no longer verifies: it is named, not the head.
    assert _broken_at(books, rewrite) == 3
    assert _broken_at(books, lambda c: c.execute("DELETE FROM audit_checkpoint")) == last
    assert _broken_at(books, lambda c: c.execute(
        "UPDATE audit_checkpoint SET signature = zeroblob(64)")) == last
    # An entry appended behind facegate's back is not covered by the checkpoint.
    def append(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, "
                           "rule, detail, hash FROM audit_events WHERE seq = ?",
                           (last,)).fetchone()
        forged = (last + 1, *row[1:])
        conn.execute("INSERT INTO audit_events (seq, at, name, operator, purpose_key, "
                     "subject_id, outcome, rule, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?)", (*forged[:9], entry_hash(row[9], forged)))
    assert _broken_at(books, append) == last + 1


def test_r15_audit_verify_on_the_command_line_names_the_entry(
        books: Deployment, tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "facegate.db")
    ok = runner.invoke(cli, ["audit", "verify", "--db", db])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("audit log intact: ")
    books.connection.execute("UPDATE audit_events SET name = 'enroll' WHERE seq = 5")
    bad = runner.invoke(cli, ["audit", "verify", "--db", db])
    assert bad.exit_code == 1
    assert bad.stderr == ("facegate: audit.chain_broken: audit entry 5 was altered, moved or "
                          "reordered\n")


def test_r15_the_log_refuses_bytes_and_survives_erasure(books: Deployment) -> None:
    alice = books.register_subject(age_band="adult")
    with pytest.raises(InvalidArgument):
        books._audit(books.connection, "enroll", operator="x",
                     detail={"descriptor": b"\x00" * 512})
    books.erase_subject(alice.id)
    names = [e.name for e in books.audit_events() if e.subject_id == alice.id]
    assert names == ["subject-registered", "subject-erased"]
    books.verify_audit()


def test_r15_a_laundered_log_is_reported_and_never_chained_again(
        books: Deployment, tmp_path: Path) -> None:
    """Delete the enroll entries, rewrite refusals as ok, NULL every hash and delete the
    checkpoint: the store still has its keys, so this is tampering, reported in one line
    naming the first bad entry, and nothing re-chains or re-signs the log."""
    alice = books.register_subject(age_band="adult")
    with pytest.raises(PolicyRefusal):  # no consent yet: a refusal in the log
        books.verify(subject=alice.id, purpose="access.office.entry", image=b"not used")
    db = tmp_path / "facegate.db"
    books.close()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE name = 'enroll'")
        conn.execute("UPDATE audit_events SET outcome = 'ok', name = 'verify' "
                     "WHERE name = 'refusal'")
        conn.execute("UPDATE audit_events SET hash = NULL")
        conn.execute("DELETE FROM audit_checkpoint")
    conn.close()
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
    assert result.exit_code == 1
    assert result.stderr == ("facegate: audit.chain_broken: audit entry 1 is not chained: a "
                             "store with keys never holds unchained entries, and they are not "
                             "adopted\n")
    with sqlite3.connect(db) as conn:  # nothing was chained or signed behind the report
        assert conn.execute("SELECT count(*) FROM audit_events WHERE hash IS NOT NULL"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM audit_checkpoint").fetchone()[0] == 0
    conn.close()


def test_r15_a_mid_log_delete_renumbered_and_rechained_names_the_deleted_place(
        books: Deployment) -> None:
    """Delete entry 4, renumber the rest, recompute every hash and the checkpoint's head:
    the first renumbered entry's tag no longer verifies, so entry 4 is named (it used to
    be reported as a truncated log)."""
    def delete_and_rechain(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM audit_events WHERE seq = 4")
        for (seq,) in conn.execute("SELECT seq FROM audit_events WHERE seq > 4 ORDER BY seq"
                                   ).fetchall():
            conn.execute("UPDATE audit_events SET seq = seq - 1 WHERE seq = ?", (seq,))
        prev = conn.execute("SELECT hash FROM audit_events WHERE seq = 3").fetchone()[0]
        rows = conn.execute("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, "
                            "rule, detail, hash FROM audit_events WHERE seq >= 4 ORDER BY seq"
                            ).fetchall()
        for row in rows:
            prev = entry_hash(prev, row)
            conn.execute("UPDATE audit_events SET hash = ? WHERE seq = ?", (prev, row[0]))
        conn.execute("UPDATE audit_checkpoint SET seq = ?, head = ?", (rows[-1][0], prev))

    assert _broken_at(books, delete_and_rechain) == 4


def test_r15_a_forged_checkpoint_seq_names_the_last_entry(books: Deployment) -> None:
    last = len(books.audit_events())
    assert _broken_at(books, lambda c: c.execute(
        "UPDATE audit_checkpoint SET seq = ?", (last - 2,))) == last


def test_r15_malformed_rows_are_tampering_in_one_line_never_a_traceback(
        books: Deployment, tmp_path: Path) -> None:
    """Found: a field retyped to a blob, bytes that are not UTF-8, a checkpoint seq of -1
    or a head that is not hex made the checker crash with a traceback."""
    last = len(books.audit_events())
    for i, (tamper, named) in enumerate((
            ("UPDATE audit_events SET detail = CAST(detail AS BLOB) WHERE seq = 3", "entry 3"),
            ("UPDATE audit_events SET operator = CAST(X'6d80ff' AS TEXT) WHERE seq = 5",
             "entry 5"),
            ("UPDATE audit_events SET outcome = 12 WHERE seq = 6", "entry 6"),
            ("UPDATE audit_checkpoint SET seq = -1", f"entry {last}"),
            ("UPDATE audit_checkpoint SET head = 'zz'", f"entry {last}"),
            ("UPDATE audit_checkpoint SET signature = 'text'", f"entry {last}"))):
        db = backup(books, tmp_path / f"copy{i}")
        with sqlite3.connect(db) as conn:
            conn.execute(tamper)
        conn.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), tamper
        (line,) = result.stderr.splitlines()
        assert line.startswith("facegate: audit.chain_broken: ") and named in line, line


def test_r15_audit_verify_of_a_mistyped_store_is_an_error_not_an_empty_store(
        tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(tmp_path / "typo.db")])
    assert result.exit_code == 1
    assert result.stderr.startswith("facegate: storage.not_found: no facegate store at ")
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "typo.db.keys").exists()
