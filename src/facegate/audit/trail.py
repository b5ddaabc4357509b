"""An append-only trail of governed operations and refusals.

Each event has a kebab-case name (``enroll``, ``verify``, ``refusal``,
``consent-granted``...), the operator, purpose, pseudonymous subject id,
outcome and the rule behind a refusal, never image or template bytes.

This is the simple table of issue 4. Issue 5 replaces this module with a
hash-chained, signed log behind the same :func:`record_event` call.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import parse_time

__all__ = ["AuditEvent", "list_events", "record_event"]


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


def record_event(conn: sqlite3.Connection, *, event: AuditEvent) -> None:
    conn.execute(
        "INSERT INTO audit_events (at, name, operator, purpose_key, subject_id, outcome, rule, "
        "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (event.at.isoformat(), event.name, event.operator, event.purpose_key, event.subject_id,
         event.outcome, event.rule, json.dumps(dict(event.detail), sort_keys=True)))


def list_events(conn: sqlite3.Connection, *, name: str | None = None) -> list[AuditEvent]:
    sql = ("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail "
           "FROM audit_events")
    args: tuple[str, ...] = ()
    if name is not None:
        sql, args = sql + " WHERE name = ?", (name,)
    return [AuditEvent(seq=int(r[0]), at=parse_time(r[1]), name=r[2], operator=r[3],
                       purpose_key=r[4], subject_id=r[5], outcome=r[6], rule=r[7],
                       detail=json.loads(r[8]))
            for r in conn.execute(sql + " ORDER BY seq", args)]
