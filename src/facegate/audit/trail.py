"""The append-only, hash-chained audit log of governed operations and refusals (R15).

Each event has a kebab-case name (``enroll``, ``verify``, ``refusal``,
``consent-granted``, ``subject-erased``, ``key-rotated``, ``retention-sweep``...),
the operator, purpose, pseudonymous subject id, outcome and the rule behind a
refusal, and never image or template bytes (a detail that is not plain JSON is
refused). :func:`record_event` is the one write path: it chains the entry to
the signed checkpoint's head, tags it, and re-signs the checkpoint over the new
head and the protected tables' state (:mod:`facegate.audit.integrity`), in the
caller's transaction. Entries are kept when a subject is erased: they hold no
biometric data. See :mod:`facegate.audit.chain` for the hashes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..clock import parse_time
from ..crypto.keyring import RowMac, Signer
from ..errors import AuditChainBroken, InvalidArgument
from ..storage.connection import Connection, IntegrityError
from ..storage.db import period_sql
from .chain import GENESIS, EntryRow, checkpoint_message, entry_hash
from .integrity import checkpoint, row_message, signed_state

__all__ = ["AuditEvent", "chain_legacy_events", "event_names", "head_seq", "list_events",
           "record_event", "sign_checkpoint"]

_COLUMNS = "seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail, hash"
#: Shown for an entry whose time was overwritten with something that is not a time.
_UNREADABLE_TIME = datetime(1, 1, 1, tzinfo=UTC)


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


def sign_checkpoint(conn: Connection, signer: Signer, seq: int, head: str,
                    at: datetime) -> None:
    """Sign the head ``(seq, head)`` and the protected tables' current state (v2)."""
    state = signed_state(conn)
    conn.execute("INSERT INTO audit_checkpoint (id, seq, head, key_id, signature, signed_at, "
                 "state) VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                 "seq = excluded.seq, head = excluded.head, key_id = excluded.key_id, "
                 "signature = excluded.signature, signed_at = excluded.signed_at, "
                 "state = excluded.state",
                 (seq, head, signer.key_id, signer.sign(checkpoint_message(seq, head, state)),
                  at.isoformat(), state))


def _detail_text(detail: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(detail), sort_keys=True)
    except TypeError:
        raise InvalidArgument("an audit detail must be plain JSON (never image or template "
                              "bytes)") from None


def record_event(conn: Connection, *, event: AuditEvent, signer: Signer, mac: RowMac) -> int:
    """Append ``event`` after the signed head, tag it, and sign the new head with the
    protected tables' state; returns its seq.

    Raises:
        AuditChainBroken: the log has entries but no checkpoint, the checkpoint is
            malformed, or the next seq is taken (someone wrote to the log behind
            facegate's back).
    """
    signed = checkpoint(conn)
    if signed is None:
        if conn.execute("SELECT 1 FROM audit_events LIMIT 1").fetchone() is not None:
            raise AuditChainBroken("the audit log has entries but no signed checkpoint; run "
                                   "facegate audit verify", details={"rule": "R15"})
        seq, prev = 1, GENESIS
    elif not signed.well_formed:
        raise AuditChainBroken("the audit checkpoint is malformed; run facegate audit verify",
                               details={"rule": "R15"})
    else:
        seq, prev = signed.seq + 1, signed.head
    row: EntryRow = (seq, event.at.isoformat(), event.name, event.operator, event.purpose_key,
                     event.subject_id, event.outcome, event.rule, _detail_text(event.detail),
                     None)
    digest = entry_hash(prev, row)
    stored = (*row[:9], digest)
    try:
        conn.execute(f"INSERT INTO audit_events ({_COLUMNS}, mac) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (*stored, mac.tag(row_message("audit_events", stored))))
    except IntegrityError:
        raise AuditChainBroken(f"audit entry {seq} already exists beyond the signed checkpoint",
                               details={"seq": seq, "rule": "R15"}) from None
    sign_checkpoint(conn, signer, seq, digest, event.at)
    return seq


def chain_legacy_events(conn: Connection) -> tuple[int, str]:
    """Chain the plain entries of a store written before protected storage: for
    ``facegate store upgrade`` only, run by a key holder on a store with no key, no
    checkpoint and no hash anywhere. Returns the number of entries and the head; the
    caller tags them and signs the checkpoint."""
    prev = GENESIS
    rows = conn.execute(f"SELECT {_COLUMNS} FROM audit_events ORDER BY seq").fetchall()
    for expected, row in enumerate(rows, start=1):
        if int(row[0]) != expected:
            conn.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", (expected, row[0]))
        entry: EntryRow = (expected, *row[1:])
        prev = entry_hash(prev, entry)
        conn.execute("UPDATE audit_events SET hash = ? WHERE seq = ?", (prev, expected))
    return len(rows), prev


def list_events(conn: Connection, *, name: str | None = None,
                subject_id: str | None = None, purpose_key: str | None = None,
                purposes: Collection[str] | None = None,
                since: datetime | None = None, until: datetime | None = None,
                after: int | None = None, before: int | None = None,
                limit: int | None = None, newest_first: bool = False) -> list[AuditEvent]:
    """The log, oldest first (or newest first); optionally one event name, one subject's
    or one purpose's entries, only entries of the ``purposes`` given (what a key limited
    in scope sees), entries at or after ``since`` and at or before ``until``, and a page:
    entries with ``seq`` above ``after`` and below ``before``, at most ``limit``."""
    sql = ("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail "
           "FROM audit_events WHERE 1 = 1")
    args: list[str] = []
    for column, value in (("name", name), ("subject_id", subject_id),
                          ("purpose_key", purpose_key)):
        if value is not None:
            sql += f" AND {column} = ?"
            args.append(value)
    if purposes is not None:
        wanted = sorted(set(purposes)) or [""]
        sql += f" AND purpose_key IN ({', '.join('?' * len(wanted))})"
        args += wanted
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
    return [_event_of(tuple(r)) for r in conn.execute(sql, params)]


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _event_of(r: tuple[object, ...]) -> AuditEvent:
    """An entry as stored, for reading; a value of the wrong type (a tampered row, which
    ``audit verify`` names) is shown as text instead of failing the page that lists it."""
    try:
        at = parse_time(_text(r[1]))
    except ValueError:
        at = _UNREADABLE_TIME
    try:
        detail = json.loads(_text(r[8]))
    except ValueError:
        detail = {"unreadable": _text(r[8])}
    return AuditEvent(seq=int(str(r[0])), at=at, name=_text(r[2]), operator=_text(r[3]),
                      purpose_key=None if r[4] is None else _text(r[4]),
                      subject_id=None if r[5] is None else _text(r[5]), outcome=_text(r[6]),
                      rule=None if r[7] is None else _text(r[7]),
                      detail=detail if isinstance(detail, dict) else {"value": detail})


def event_names(conn: Connection) -> list[str]:
    """The distinct event names in the log, sorted."""
    return [str(r[0]) for r in conn.execute("SELECT DISTINCT name FROM audit_events "
                                            "ORDER BY name")]


def head_seq(conn: Connection) -> int:
    """The seq of the newest entry (0 for an empty log): the log's position now."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0])
