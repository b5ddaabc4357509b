"""The append-only, hash-chained audit log of governed operations and refusals (R15).

Each event has a kebab-case name (``enroll``, ``verify``, ``refusal``,
``consent-granted``, ``subject-erased``, ``key-rotated``, ``retention-sweep``...),
the operator, purpose, pseudonymous subject id, outcome and the rule behind a
refusal, and never image or template bytes (a detail that is not plain JSON is
refused). :func:`record_event` is the one write path: it chains the entry to
the signed checkpoint's head and re-signs the checkpoint, in the caller's
transaction. Entries are kept when a subject is erased: they hold no
biometric data. See :mod:`facegate.audit.chain` for the hashes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import parse_time
from ..crypto.keyring import Signer
from ..errors import AuditChainBroken, InvalidArgument
from ..storage.connection import Connection, IntegrityError
from ..storage.db import period_sql, snapshot
from .chain import (
    GENESIS,
    ChainReport,
    Checkpoint,
    EntryRow,
    checkpoint_message,
    entry_hash,
    verify_chain,
)

__all__ = ["AuditEvent", "chain_legacy_events", "event_names", "head_seq", "is_chained",
           "list_events", "record_event", "verify_log"]

_COLUMNS = "seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail, hash"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One trail entry."""

    name: str
    at: datetime
    operator: str
    outcome: str
    purpose_key: str | None = None
    subject_id: str | None = None
    rule: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0


def _checkpoint(conn: Connection) -> Checkpoint | None:
    row = conn.execute("SELECT seq, head, key_id, signature, signed_at FROM audit_checkpoint "
                       "WHERE id = 1").fetchone()
    return None if row is None else Checkpoint(seq=int(row[0]), head=str(row[1]),
                                               key_id=str(row[2]), signature=bytes(row[3]),
                                               signed_at=str(row[4]))


def _sign(conn: Connection, signer: Signer, seq: int, head: str, at: datetime) -> None:
    conn.execute("INSERT INTO audit_checkpoint (id, seq, head, key_id, signature, signed_at) "
                 "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, "
                 "head = excluded.head, key_id = excluded.key_id, "
                 "signature = excluded.signature, signed_at = excluded.signed_at",
                 (seq, head, signer.key_id, signer.sign(checkpoint_message(seq, head)),
                  at.isoformat()))


def _detail_text(detail: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(detail), sort_keys=True)
    except TypeError:
        raise InvalidArgument("an audit detail must be plain JSON (never image or template "
                              "bytes)") from None


def record_event(conn: Connection, *, event: AuditEvent, signer: Signer) -> int:
    """Append ``event`` after the signed head and sign the new head; returns its seq.

    Raises:
        AuditChainBroken: the log has entries but no checkpoint, or the next seq is taken
            (someone wrote to the log behind facegate's back).
    """
    checkpoint = _checkpoint(conn)
    if checkpoint is None:
        if conn.execute("SELECT 1 FROM audit_events LIMIT 1").fetchone() is not None:
            raise AuditChainBroken("the audit log has entries but no signed checkpoint; run "
                                   "facegate audit verify", details={"rule": "R15"})
        seq, prev = 1, GENESIS
    else:
        seq, prev = checkpoint.seq + 1, checkpoint.head
    row: EntryRow = (seq, event.at.isoformat(), event.name, event.operator, event.purpose_key,
                     event.subject_id, event.outcome, event.rule, _detail_text(event.detail),
                     None)
    digest = entry_hash(prev, row)
    try:
        conn.execute(f"INSERT INTO audit_events ({_COLUMNS}) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row[:9], digest))
    except IntegrityError:
        raise AuditChainBroken(f"audit entry {seq} already exists beyond the signed checkpoint",
                               details={"seq": seq, "rule": "R15"}) from None
    _sign(conn, signer, seq, digest, event.at)
    return seq


def is_chained(conn: Connection) -> bool:
    """Whether the log has a signed checkpoint (the store then needs its signing key)."""
    return _checkpoint(conn) is not None


def chain_legacy_events(conn: Connection, *, signer: Signer, now: datetime) -> int:
    """Chain and sign the plain entries of a store written before issue 5; returns how many.

    Only a log that was never chained (no checkpoint, no hash anywhere) is chained.
    """
    if _checkpoint(conn) is not None or conn.execute(
            "SELECT 1 FROM audit_events WHERE hash IS NOT NULL LIMIT 1").fetchone():
        return 0
    prev = GENESIS
    rows = conn.execute(f"SELECT {_COLUMNS} FROM audit_events ORDER BY seq").fetchall()
    for expected, row in enumerate(rows, start=1):
        if int(row[0]) != expected:
            conn.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", (expected, row[0]))
        entry: EntryRow = (expected, *row[1:])
        prev = entry_hash(prev, entry)
        conn.execute("UPDATE audit_events SET hash = ? WHERE seq = ?", (prev, expected))
    if rows:
        _sign(conn, signer, len(rows), prev, now)
    return len(rows)


def verify_log(conn: Connection, *, public_key: bytes, key_id: str) -> ChainReport:
    """Verify the whole log against the signed checkpoint.

    Raises:
        AuditChainBroken: ``details.seq`` names the first broken entry.
    """
    with snapshot(conn):  # entries and checkpoint from the same moment
        rows = conn.execute(f"SELECT {_COLUMNS} FROM audit_events ORDER BY seq").fetchall()
        checkpoint = _checkpoint(conn)
    return verify_chain(rows, checkpoint, public_key=public_key, key_id=key_id)


def list_events(conn: Connection, *, name: str | None = None,
                subject_id: str | None = None, purpose_key: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                after: int | None = None, before: int | None = None,
                limit: int | None = None, newest_first: bool = False) -> list[AuditEvent]:
    """The log, oldest first (or newest first); optionally one event name, one subject's
    or one purpose's entries, entries at or after ``since`` and at or before ``until``,
    and a page: entries with ``seq`` above ``after`` and below ``before``, at most ``limit``."""
    sql = ("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail "
           "FROM audit_events WHERE 1 = 1")
    args: list[str] = []
    for column, value in (("name", name), ("subject_id", subject_id),
                          ("purpose_key", purpose_key)):
        if value is not None:
            sql += f" AND {column} = ?"
            args.append(value)
    period, bounds = period_sql("at", since, until)
    sql += period
    args += bounds
    params: list[str | int] = list(args)
    for op, bound in ((">", after), ("<", before)):
        if bound is not None:
            sql += f" AND seq {op} ?"
            params.append(bound)
    sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [AuditEvent(seq=int(r[0]), at=parse_time(r[1]), name=r[2], operator=r[3],
                       purpose_key=r[4], subject_id=r[5], outcome=r[6], rule=r[7],
                       detail=json.loads(r[8]))
            for r in conn.execute(sql, params)]


def event_names(conn: Connection) -> list[str]:
    """The distinct event names in the log, sorted."""
    return [str(r[0]) for r in conn.execute("SELECT DISTINCT name FROM audit_events "
                                            "ORDER BY name")]


def head_seq(conn: Connection) -> int:
    """The seq of the newest entry (0 for an empty log): the log's position now."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0])
