"""Review cases, decisions and the pure rules that move a case (R19).

A purpose configured for review turns every identification hit (a face of
the probe and a candidate subject) into a :class:`ReviewCase`. The case is
``pending`` until the jurisdiction profile's ``reviewers_required`` distinct
authorised reviewers confirm it (then ``confirmed``), one of them rejects it
(``rejected``), or its deadline passes (``expired``). Only a confirmed case can
be acted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..calibration.models import FalseMatchRate
from ..errors import (
    ReviewCaseClosed,
    ReviewerBarred,
    ReviewerNotAuthorised,
    ReviewerRepeated,
    ReviewImagesClosed,
    ReviewNotConfirmed,
)

__all__ = ["CaseEvidence", "CaseStatus", "ReviewCase", "ReviewDecision", "ReviewImage",
           "ReviewSettings", "Verdict", "check_act", "check_view", "next_status",
           "no_reference_words"]


class CaseStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Verdict(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


class ReviewImage(StrEnum):
    """Which face of a case a reviewer opens: the probe's, or the candidate's reference."""

    PROBE = "probe"
    REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """A purpose's review configuration: how long a case (and its probe image) waits, and
    how many distinct reviewers confirm a hit (``None``: the jurisdiction's minimum), and
    whether whoever registered the purpose or ran the identification is barred from
    deciding its cases (``bar_own``)."""

    purpose_key: str
    window_seconds: int
    configured_by: str
    configured_at: datetime
    reviewers: int | None = None
    bar_own: bool = False

    def reviewers_required(self, minimum: int) -> int:
        """The distinct confirmations a hit needs: the deployer's number, never fewer than
        the jurisdiction's ``minimum``."""
        return max(minimum, self.reviewers or minimum)


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
    #: the face's box in the probe (left, top, right, bottom); ``None`` for older cases
    face_box: tuple[int, int, int, int] | None = None

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


def check_view(case: ReviewCase, *, reviewer: str, authorised: bool, now: datetime,
               rule_details: dict[str, str]) -> None:
    """Refuse to show a case's faces to anyone but an authorised reviewer of its purpose,
    and to anyone once the case is decided or past its deadline (R19).

    Raises:
        ReviewerNotAuthorised: the reviewer is not authorised for the purpose.
        ReviewImagesClosed: the case is confirmed, rejected or expired.
    """
    if not authorised:
        raise ReviewerNotAuthorised(
            f"{reviewer!r} is not an authorised reviewer of {case.purpose_key}",
            details={**rule_details, "case": case.id, "reviewer": reviewer})
    if case.status is not CaseStatus.PENDING or now >= case.deadline:
        status = CaseStatus.EXPIRED if case.status is CaseStatus.PENDING else case.status
        raise ReviewImagesClosed(
            f"review case {case.id} is {status}; its faces are shown only while it waits "
            "for a decision", details={**rule_details, "case": case.id, "status": str(status)})


def _name(words: Mapping[str, str], lang: str, fallback: str) -> str:
    return words.get(lang) or next(iter(words.values()), fallback)


def no_reference_words(alternatives: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, str]:
    """What a case without a reference photo tells its reviewer, in zh and en: that none
    was kept, and what to check the person against instead (the purpose's alternative
    credentials, given as key and words per language, or an ID document)."""
    en = [_name(words, "en", key) for key, words in alternatives]
    zh = [_name(words, "zh", key) for key, words in alternatives]
    check_en = (" or ".join(en) + ", or an ID document") if en else "an ID document"
    check_zh = ("、".join(zh) + "或身份证件") if zh else "身份证件"
    return {
        "zh": f"未保存该候选人的参考照片（只有经单独同意才保留图像）。请核对：{check_zh}。",
        "en": ("No reference photo of this candidate was kept (an image is kept only with "
               f"its own consent). Check the person against {check_en}."),
    }


@dataclass(frozen=True, slots=True)
class CaseEvidence:
    """What a reviewer sees of a case beside its faces.

    Args:
        case: the case.
        fmr: the false-match rate its distance corresponds to on the purpose's
            calibration, with its interval; ``None`` when there is no calibration.
        reference: whether a reference photo of the candidate was kept (R10).
        instead: without one, what to check against instead, per language.
    """

    case: ReviewCase
    fmr: FalseMatchRate | None
    reference: bool
    instead: Mapping[str, str] | None
