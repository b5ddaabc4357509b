"""Which audit entries become which events, for whom, carrying what (pure).

Every audit entry is one event. A few have a name of their own and a payload
chosen for the systems that act on them; every other entry is
``audit.<entry name>`` and goes only to the ``audit`` audience, which sees the
entry as the auditor role does through ``GET /v1/audit/events``:

=============================  ==================================  ===================
event type                     audit entry                         audiences
=============================  ==================================  ===================
``verify.match``               ``verify``, outcome ``match``       door, audit
``verify.no_match``            ``verify``, outcome ``no_match``    audit
``door.open``                  ``camera-match`` (a camera's track) door, audit
``door.refused``               ``camera-claim-refused`` (a claim   door, audit
                               at a verification camera)
``identify.hit_confirmed``     ``review-confirm``, case confirmed  door, review, audit
``consent.withdrawn``          ``consent-withdrawn``               door, audit
``review.case_opened``         ``review-cases-opened``             hr, review, audit
``subject.erased``             ``subject-erased``                  hr, audit
``audit.<name>``               any other                           audit
=============================  ==================================  ===================

An event never carries an image, a template, a score of a face or a key; the
subject is named only by its pseudonymous id, and only where the audience needs
it (a door controller: who may pass; an HR system: whose records to erase).
A scoped subscriber (purposes, sites; like an API key's scope) gets only the
events of its purposes and their sites; an event about no purpose (an erasure
names every purpose the subject had) is in scope when one of its purposes is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["AUDIENCES", "NAMED_TYPES", "ROLE_AUDIENCE", "Entry", "Event", "event_for",
           "event_type", "in_scope"]

#: The named event types each audience may receive; ``audit`` receives every event.
AUDIENCES: Final[Mapping[str, frozenset[str]]] = {
    "door": frozenset({"verify.match", "identify.hit_confirmed", "consent.withdrawn",
                       "door.open", "door.refused"}),
    "hr": frozenset({"review.case_opened", "subject.erased"}),
    "review": frozenset({"review.case_opened", "identify.hit_confirmed"}),
    "audit": frozenset(),
}

#: The types with a name and payload of their own.
NAMED_TYPES: Final = frozenset().union(*AUDIENCES.values()) | {"verify.no_match"}

#: What a key of each role sees in ``GET /v1/events`` and the stream.
ROLE_AUDIENCE: Final[Mapping[str, str]] = {
    "admin": "audit", "auditor": "audit", "operator": "door", "reviewer": "review"}


@dataclass(frozen=True, slots=True)
class Entry:
    """The audit entry an event comes from (what the catalogue reads of it)."""

    seq: int
    at: str
    name: str
    operator: str
    outcome: str
    purpose: str | None
    subject: str | None
    rule: str | None
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One event as delivered: ``{"id", "type", "occurred_at", "audit_seq", "data"}``."""

    id: str
    type: str
    occurred_at: str
    audit_seq: int
    data: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "occurred_at": self.occurred_at,
                "audit_seq": self.audit_seq, "data": self.data}


def event_type(entry: Entry) -> str:
    """The event type of an audit entry."""
    if entry.name == "verify":
        return "verify.match" if entry.outcome == "match" else "verify.no_match"
    if entry.name == "review-confirm" and entry.outcome == "confirmed":
        return "identify.hit_confirmed"
    named = {"consent-withdrawn": "consent.withdrawn", "camera-match": "door.open",
             "camera-claim-refused": "door.refused",
             "review-cases-opened": "review.case_opened",
             "subject-erased": "subject.erased"}.get(entry.name)
    return named or f"audit.{entry.name}"


def _purposes(entry: Entry) -> list[str]:
    if entry.purpose is not None:
        return [entry.purpose]
    listed = entry.detail.get("purposes")
    return [str(p) for p in listed] if isinstance(listed, list) else []


def in_scope(entry: Entry, *, purposes: frozenset[str] | None, sites: frozenset[str] | None,
             site_of: Mapping[str, str]) -> bool:
    """Whether a subscriber scoped to ``purposes`` and ``sites`` (``None``: all) may see
    ``entry``; ``site_of`` maps purpose keys to their sites."""
    if purposes is None and sites is None:
        return True
    concerned = _purposes(entry)
    return any((purposes is None or p in purposes)
               and (sites is None or site_of.get(p) in sites) for p in concerned)


def _data(kind: str, entry: Entry) -> dict[str, Any]:
    d = entry.detail
    if kind in ("verify.match", "verify.no_match"):
        return {"purpose": entry.purpose, "subject": entry.subject}
    if kind == "identify.hit_confirmed":
        return {"purpose": entry.purpose, "subject": entry.subject, "case": d.get("case"),
                "confirmations": d.get("confirmations"), "required": d.get("required")}
    if kind == "door.open":
        return {"purpose": entry.purpose, "subject": entry.subject, "camera": d.get("camera")}
    if kind == "door.refused":
        return {"purpose": entry.purpose, "subject": entry.subject, "camera": d.get("camera"),
                "claim": d.get("claim"), "reason": entry.outcome, "rule": entry.rule}
    if kind == "consent.withdrawn":
        return {"purpose": entry.purpose, "subject": entry.subject, "scope": d.get("scope")}
    if kind == "review.case_opened":
        return {"purpose": entry.purpose, "session": d.get("session"), "cases": d.get("cases"),
                "case_ids": list(d.get("case_ids") or []), "deadline": d.get("deadline"),
                "reviewers_required": d.get("reviewers_required")}
    if kind == "subject.erased":
        return {"subject": entry.subject, "purposes": list(d.get("purposes") or [])}
    raise KeyError(kind)


def event_for(entry: Entry, audience: str, *, types: frozenset[str] | None = None
              ) -> Event | None:
    """The event ``audience`` receives for ``entry`` (``None``: none), when its type is in
    ``types`` (``None``: every type the audience may receive).

    The ``audit`` audience gets the whole entry as the auditor role reads it; the
    others get the named types' payloads only.
    """
    kind = event_type(entry)
    if types is not None and kind not in types:
        return None
    if audience == "audit":
        data: dict[str, Any] = {"name": entry.name, "operator": entry.operator,
                                "outcome": entry.outcome, "purpose": entry.purpose,
                                "subject": entry.subject, "rule": entry.rule,
                                "detail": dict(entry.detail)}
    elif kind in AUDIENCES.get(audience, frozenset()):
        data = _data(kind, entry)
    else:
        return None
    return Event(id=f"evt_{entry.seq}", type=kind, occurred_at=entry.at, audit_seq=entry.seq,
                 data=data)
