"""The filing counter: stored individuals against the profile's threshold.

The count is of distinct subjects with at least one stored template, across
all purposes and sites (people stored, not people ever processed). After each
enrollment that stores a new individual, :func:`after_new_individual` runs in
the same transaction:

* at ``early_warning_share`` of the threshold it writes one early warning;
* at the threshold (reached means ``>=``) it writes the filing record, due
  ``filing_working_days`` Chinese working days after the date it was reached.

After a filing, :func:`record_material_change` writes a change record for a
new purpose, a new method or a new site type (R18).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ..clock import china_date, parse_time
from ..jurisdictions import JurisdictionProfile
from ..organisation.repository import get_processor, list_sites
from ..purposes.repository import latest_notice, list_assessments, list_purposes
from ..storage.connection import Connection
from ..templates.store import count_individuals
from .calendar import add_working_days

__all__ = [
    "FilingKind",
    "FilingRecord",
    "FilingStatus",
    "after_new_individual",
    "filing_status",
    "list_records",
    "record_material_change",
    "warning_level",
]


class FilingKind(StrEnum):
    """What a filing record is."""

    EARLY_WARNING = "early_warning"
    FILING = "filing"
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class FilingRecord:
    """A record the processor must act on (or, for a warning, note)."""

    id: int
    kind: FilingKind
    jurisdiction: str
    individuals: int
    threshold: int | None
    triggered_on: date
    due_on: date | None
    reason: str
    content: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FilingStatus:
    """Where the deployment stands against the filing threshold."""

    individuals: int
    threshold: int | None
    warning_at: int | None
    records: tuple[FilingRecord, ...]

    @property
    def filed(self) -> bool:
        return any(r.kind is FilingKind.FILING for r in self.records)


def warning_level(profile: JurisdictionProfile) -> int | None:
    """The count that raises the early warning."""
    if profile.filing_threshold is None:
        return None
    return math.ceil(profile.filing_threshold * profile.early_warning_share)


def list_records(conn: Connection) -> list[FilingRecord]:
    return [FilingRecord(
        id=int(r[0]), kind=FilingKind(r[1]), jurisdiction=r[2], individuals=int(r[3]),
        threshold=None if r[4] is None else int(r[4]), triggered_on=date.fromisoformat(r[5]),
        due_on=None if r[6] is None else date.fromisoformat(r[6]), reason=r[7],
        content=json.loads(r[8]), created_at=parse_time(r[9]))
        for r in conn.execute("SELECT id, kind, jurisdiction, individuals, threshold, "
                              "triggered_on, due_on, reason, content, created_at "
                              "FROM filing_records ORDER BY id")]


def filing_status(conn: Connection, *, profile: JurisdictionProfile) -> FilingStatus:
    return FilingStatus(individuals=count_individuals(conn), threshold=profile.filing_threshold,
                        warning_at=warning_level(profile), records=tuple(list_records(conn)))


def _content(conn: Connection, individuals: int) -> dict[str, Any]:
    """What CN Art. 15 asks a filing to contain, from the deployment's own books."""
    processor = get_processor(conn)
    purposes = list_purposes(conn)
    return {
        "processor": None if processor is None else {
            "name": dict(processor.name), "contact": dict(processor.contact),
            "credit_code": processor.credit_code, "province": dict(processor.province)},
        "individuals_stored": individuals,
        "purposes_and_methods": [
            {"purpose": p.key, "name": dict(p.name), "description": dict(p.description),
             "modes": sorted(p.modes), "storage_mode": p.storage_mode.value, "site": p.site_key,
             "status": p.status.value}
            for p in purposes],
        "site_types": sorted({s.site_type.value for s in list_sites(conn)}),
        "security_measures": None if processor is None else dict(processor.security_measures),
        "processing_rules": {p.key: (n.version if (n := latest_notice(
            conn, purpose_key=p.key)) else None) for p in purposes},
        "impact_assessments": [
            {"id": a.id, "purpose": a.purpose_key, "signed_at": a.signed_at.isoformat(),
             "current": a.is_current_for(p)}
            for p in purposes for a in list_assessments(conn, purpose_key=p.key)],
    }


def _insert(conn: Connection, *, kind: FilingKind, profile: JurisdictionProfile,
            individuals: int, now: datetime, due: bool, reason: str) -> FilingRecord:
    today = china_date(now)
    due_on = add_working_days(today, profile.filing_working_days) if due else None
    content = _content(conn, individuals)
    cur = conn.execute(
        "INSERT INTO filing_records (kind, jurisdiction, individuals, threshold, triggered_on, "
        "due_on, reason, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (kind.value, profile.key, individuals, profile.filing_threshold, today.isoformat(),
         due_on.isoformat() if due_on else None, reason,
         json.dumps(content, ensure_ascii=False, sort_keys=True), now.isoformat()))
    (record_id,) = cur.fetchone()
    return FilingRecord(id=int(record_id), kind=kind, jurisdiction=profile.key,
                        individuals=individuals, threshold=profile.filing_threshold,
                        triggered_on=today, due_on=due_on, reason=reason, content=content,
                        created_at=now)


def _has(conn: Connection, kind: FilingKind) -> bool:
    return conn.execute("SELECT 1 FROM filing_records WHERE kind = ? LIMIT 1",
                        (kind.value,)).fetchone() is not None


def after_new_individual(conn: Connection, *, profile: JurisdictionProfile,
                         now: datetime) -> list[FilingRecord]:
    """Write the early warning and the filing record when their counts are reached (R17)."""
    threshold = profile.filing_threshold
    if threshold is None or not profile.applies("R17") or _has(conn, FilingKind.FILING):
        return []
    individuals = count_individuals(conn)
    written: list[FilingRecord] = []
    warn = warning_level(profile)
    if warn is not None and individuals >= warn and not _has(conn, FilingKind.EARLY_WARNING):
        written.append(_insert(conn, kind=FilingKind.EARLY_WARNING, profile=profile,
                               individuals=individuals, now=now, due=False,
                               reason=f"{individuals} individuals stored; filing is due at "
                                      f"{threshold}"))
    if individuals >= threshold:
        written.append(_insert(conn, kind=FilingKind.FILING, profile=profile,
                               individuals=individuals, now=now, due=True,
                               reason=f"stored face information reached {threshold} "
                                      f"individuals ({profile.article('R17')})"))
    return written


def record_material_change(conn: Connection, *, profile: JurisdictionProfile,
                           now: datetime, reason: str) -> FilingRecord | None:
    """After a filing, write a change record due in 30 working days (R18); else nothing."""
    if not profile.applies("R18") or not _has(conn, FilingKind.FILING):
        return None
    return _insert(conn, kind=FilingKind.CHANGE, profile=profile,
                   individuals=count_individuals(conn), now=now, due=True, reason=reason)
