"""The consent ledger: append-only events, current state derived from them.

Every grant and withdrawal is a :class:`ConsentEvent` row that is never
updated, and deleted only by the erasure of the whole subject (R23,
:func:`erase_events`; the audit log keeps the record that consent was
given); :func:`current_state` folds a subject's events for one
purpose and scope into a :class:`ConsentState`. A grant records the notice
version the subject was shown, how consent was given, whether it was
separate (never bundled, R3) and, for children, the guardian who gave it (R5).
Every row carries a tag (:mod:`facegate.audit.integrity`): the deployment
writes and reads the ledger through a :class:`~facegate.audit.integrity.RowGuard`,
so a grant forged, a withdrawal rewritten or a row inserted in the database
behind facegate's back is refused, never counted.

Scopes: ``biometric`` is consent to the purpose's face processing;
``transfer`` allows templates to leave the device (R8) and ``retain_image``
allows the raw image to be kept, sealed (R10).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from ..clock import parse_time
from ..jurisdictions import ConsentMethod

if TYPE_CHECKING:  # types only: policy and the CLI import this module, not the store
    from ..audit.integrity import RowGuard
    from ..storage.connection import Connection

__all__ = [
    "ConsentEvent",
    "ConsentKind",
    "ConsentScope",
    "ConsentState",
    "GivenBy",
    "append_event",
    "count_live",
    "current_state",
    "erase_events",
    "list_events",
]


class ConsentScope(StrEnum):
    """What a consent covers."""

    BIOMETRIC = "biometric"
    TRANSFER = "transfer"
    RETAIN_IMAGE = "retain_image"


class ConsentKind(StrEnum):
    """A ledger event: consent given or withdrawn."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class GivenBy(StrEnum):
    """Who gave (or withdrew) the consent."""

    SUBJECT = "subject"
    GUARDIAN = "guardian"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One row of the ledger."""

    subject_id: str
    purpose_key: str
    scope: ConsentScope
    kind: ConsentKind
    notice_version: int | None
    method: ConsentMethod
    separate: bool
    given_by: GivenBy
    guardian_name: str | None
    guardian_relation: str | None
    operator: str
    recorded_at: datetime
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The standing of one (subject, purpose, scope), derived from its events.

    ``withdrawn`` is true when the latest event is a withdrawal, so "never
    asked" and "said no" can be told apart in messages.
    """

    granted: bool
    withdrawn: bool
    notice_version: int | None
    given_by: GivenBy | None
    guardian_name: str | None
    since: datetime | None


def current_state(events: Iterable[ConsentEvent]) -> ConsentState:
    """Fold events, oldest first, into the current state: the latest event wins."""
    latest: ConsentEvent | None = None
    for event in events:
        if latest is None or event.seq >= latest.seq:
            latest = event
    if latest is None:
        return ConsentState(granted=False, withdrawn=False, notice_version=None, given_by=None,
                            guardian_name=None, since=None)
    granted = latest.kind is ConsentKind.GRANTED
    return ConsentState(granted=granted, withdrawn=not granted,
                        notice_version=latest.notice_version if granted else None,
                        given_by=latest.given_by if granted else None,
                        guardian_name=latest.guardian_name if granted else None,
                        since=latest.recorded_at)


_COLUMNS = ("seq, subject_id, purpose_key, scope, kind, notice_version, method, separate, "
            "given_by, guardian_name, guardian_relation, operator, recorded_at")


def append_event(conn: Connection, *, guard: RowGuard, event: ConsentEvent) -> ConsentEvent:
    """Append ``event`` to the ledger and tag it; returns it with its sequence number."""
    cur = conn.execute(
        f"INSERT INTO consent_events ({_COLUMNS.removeprefix('seq, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        (event.subject_id, event.purpose_key, event.scope.value, event.kind.value,
         event.notice_version, event.method.value, int(event.separate), event.given_by.value,
         event.guardian_name, event.guardian_relation, event.operator,
         event.recorded_at.isoformat()))
    seq = int(cur.fetchone()[0])
    guard.tag("consent_events", seq)
    return replace(event, seq=seq)


def list_events(conn: Connection, *, guard: RowGuard, subject_id: str,
                purpose_key: str | None = None,
                scope: ConsentScope | None = None) -> list[ConsentEvent]:
    """A subject's events, oldest first, optionally for one purpose and scope.

    Every event of the subject is read and its tag checked, and together they must be
    what the subject's tagged digest counts, so an event moved to another subject or
    purpose, deleted or restored behind facegate's back is found here, not only by the
    next full check (R15).

    Raises:
        StoreTampered: a row's tag, or the subject's digest, does not verify.
    """
    every = conn.execute(f"SELECT {_COLUMNS}, mac FROM consent_events WHERE subject_id = ? "
                         "ORDER BY seq", (subject_id,)).fetchall()
    for r in every:
        guard.check("consent_events", tuple(r))
    guard.check_consents(subject_id, [tuple(r) for r in every])
    rows = [r for r in every
            if (purpose_key is None or r[2] == purpose_key)
            and (scope is None or r[3] == scope.value)]
    return [ConsentEvent(
        seq=int(r[0]), subject_id=str(r[1]), purpose_key=str(r[2]), scope=ConsentScope(r[3]),
        kind=ConsentKind(r[4]), notice_version=None if r[5] is None else int(r[5]),
        method=ConsentMethod(r[6]), separate=bool(r[7]), given_by=GivenBy(r[8]),
        guardian_name=r[9], guardian_relation=r[10], operator=str(r[11]),
        recorded_at=parse_time(str(r[12])))
        for r in rows]


def count_live(conn: Connection, *, guard: RowGuard, purpose_key: str,
               scope: ConsentScope) -> int:
    """How many subjects hold a live consent of ``scope`` for ``purpose_key`` now.

    Raises:
        StoreTampered: a row's tag does not verify.
    """
    latest: dict[str, str] = {}
    for row in conn.execute(
            f"SELECT {_COLUMNS}, mac FROM consent_events WHERE purpose_key = ? AND scope = ? "
            "ORDER BY seq", (purpose_key, scope.value)).fetchall():
        guard.check("consent_events", tuple(row))
        latest[str(row[1])] = str(row[4])
    return sum(1 for kind in latest.values() if kind == ConsentKind.GRANTED.value)


def erase_events(conn: Connection, *, guard: RowGuard, subject_id: str) -> int:
    """Delete the subject's ledger, and its digest, as part of erasing the subject (R23);
    returns how many events."""
    erased = guard.delete("consent_events", "subject_id = ?", (subject_id,))
    guard.delete("subject_digests", "subject_id = ?", (subject_id,))
    return erased
