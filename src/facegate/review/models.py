"""Review cases, decisions and the pure rules that move a case (R19).

A purpose configured for review turns every identification hit (a face of
the probe and a candidate subject) into a :class:`ReviewCase`. The case is
``pending`` until the jurisdiction profile's ``reviewers_required`` distinct
authorised reviewers confirm it (then ``confirmed``), one of them rejects it
(``rejected``), or its deadline passes (``expired``). Only a confirmed case can
be acted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..errors import (
    ReviewCaseClosed,
    ReviewerBarred,
    ReviewerNotAuthorised,
    ReviewerRepeated,
    ReviewNotConfirmed,
)

__all__ = ["CaseStatus", "ReviewCase", "ReviewDecision", "ReviewSettings", "Verdict",
           "check_act", "next_status"]


class CaseStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Verdict(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """A purpose's review configuration: how long a case (and its probe image) waits, and
    whether whoever registered the purpose or ran the identification is barred from
    deciding its cases (``bar_own``)."""

    purpose_key: str
    window_seconds: int
    configured_by: str
    configured_at: datetime
    bar_own: bool = False


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """One reviewer's verdict on one case, with the reason and the time."""

    reviewer: str
    verdict: Verdict
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReviewCase:
    """An identification hit waiting for (or past) human review."""

    id: str
    session_id: str
    purpose_key: str
    face: int
    subject_id: str
    distance: float
    status: CaseStatus
    reviewers_required: int
    created_at: datetime
    deadline: datetime
    decided_at: datetime | None
    decisions: tuple[ReviewDecision, ...] = ()

    @property
    def confirmations(self) -> int:
        return sum(1 for d in self.decisions if d.verdict is Verdict.CONFIRM)

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(d.reviewer for d in self.decisions)


def next_status(case: ReviewCase, *, reviewer: str, verdict: Verdict, authorised: bool,
                now: datetime, rule_details: dict[str, str], barred: str | None = None
                ) -> CaseStatus:
    """The status after ``reviewer``'s ``verdict``; refuses what R19 does not allow.

    Raises:
        ReviewCaseClosed: the case is already confirmed, rejected or expired.
        ReviewerNotAuthorised: the reviewer is not authorised for the purpose.
        ReviewerRepeated: the reviewer already decided this case.
        ReviewerBarred: ``barred`` says why the reviewer may not decide it (they registered
            the purpose or ran the identification, and the review bars them).
    """
    if case.status is not CaseStatus.PENDING or now >= case.deadline:
        status = CaseStatus.EXPIRED if case.status is CaseStatus.PENDING else case.status
        raise ReviewCaseClosed(f"review case {case.id} is {status}",
                               details={"case": case.id, "status": str(status)})
    if not authorised:
        raise ReviewerNotAuthorised(
            f"{reviewer!r} is not an authorised reviewer of {case.purpose_key}",
            details={**rule_details, "case": case.id, "reviewer": reviewer})
    if barred is not None:
        raise ReviewerBarred(
            f"{reviewer!r} {barred}; this purpose's review bars them from deciding its cases",
            details={**rule_details, "case": case.id, "reviewer": reviewer})
    if reviewer in case.reviewers:
        raise ReviewerRepeated(
            f"{reviewer!r} already reviewed case {case.id}; a second reviewer must decide",
            details={**rule_details, "case": case.id, "reviewer": reviewer})
    if verdict is Verdict.REJECT:
        return CaseStatus.REJECTED
    if case.confirmations + 1 >= case.reviewers_required:
        return CaseStatus.CONFIRMED
    return CaseStatus.PENDING


def check_act(case: ReviewCase, *, rule_details: dict[str, str]) -> None:
    """Refuse to act on a hit that is not confirmed (R19).

    Raises:
        ReviewNotConfirmed: the case is pending, rejected or expired.
    """
    if case.status is not CaseStatus.CONFIRMED:
        raise ReviewNotConfirmed(
            f"case {case.id} is {case.status} ({case.confirmations} of "
            f"{case.reviewers_required} confirmations); an unconfirmed hit cannot be acted on",
            details={**rule_details, "case": case.id, "status": str(case.status),
                     "confirmations": case.confirmations,
                     "required": case.reviewers_required})
