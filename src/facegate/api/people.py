"""The consent desk and subjects' rights: subjects, consent (and the subject's own
token), withdrawal, declining, alternative outcomes, access reports and erasure.

Staff act through operator keys within their scope; a subject acts on their own
data with the token issued when their consent was recorded (``/v1/me``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from ..access import ApiAction
from ..errors import RequestError
from .common import (
    DeskKey,
    EraseKey,
    IsoDate,
    ReportKey,
    SelfKey,
    StrictBody,
    WithdrawKey,
    allow,
    allowed,
    jsonable,
)
from .errors import ERROR_RESPONSES
from .models import (
    AccessReportOut,
    AlternativeOut,
    ConsentRecorded,
    DeclineOut,
    ErasureOut,
    SubjectResponse,
    SubjectsPage,
    WithdrawalOut,
)
from .pages import Cursor, utc

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Obj = dict[str, Any]
Method = Literal["written", "on_screen", "electronic_signature", "recorded_verbal"]


class SubjectIn(StrictBody):
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: IsoDate | None = None
    age_band: Literal["under_14", "14_15", "16_17", "adult"] | None = None


class ConsentIn(StrictBody):
    subject: str = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=100)
    notice_version: int = Field(ge=1)
    method: Method = "on_screen"
    separate: bool = True
    guardian: str | None = Field(default=None, max_length=200)
    guardian_relation: str | None = Field(default=None, max_length=100)
    scope: Literal["biometric", "transfer", "retain_image"] = "biometric"


class WithdrawalIn(StrictBody):
    subject: str = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=100)
    scope: Literal["biometric", "transfer", "retain_image"] = "biometric"


class SelfWithdrawalIn(StrictBody):
    purpose: str = Field(min_length=1, max_length=100)
    scope: Literal["biometric", "transfer", "retain_image"] = "biometric"


class DeclineIn(StrictBody):
    purpose: str = Field(min_length=1, max_length=100)
    subject: str | None = Field(default=None, max_length=100)


class AlternativeIn(StrictBody):
    purpose: str = Field(min_length=1, max_length=100)
    method: str = Field(min_length=1, max_length=200)
    result: Literal["verified", "not_verified"]
    subject: str | None = Field(default=None, max_length=100)


def _withdrawal(w: Any) -> Obj:
    return {"withdrawn": jsonable(w.event), "templates_deleted": w.templates_deleted,
            "images_deleted": w.images_deleted}


@router.post("/subjects", status_code=201, tags=["subjects"], response_model=SubjectResponse)
def register_subject(body: SubjectIn, request: Request, key: DeskKey) -> Obj:
    """Register a person under a fresh pseudonymous id."""
    allow(request, key, ApiAction.CONSENT_DESK)
    subject = request.app.state.service.call(lambda d: d.register_subject(
        external_ref=body.external_ref, birth_date=body.birth_date, age_band=body.age_band,
        operator=key.principal))
    return {"subject": jsonable(subject)}


@router.get("/subjects", tags=["subjects"], response_model=SubjectsPage)
def list_subjects(request: Request, key: ReportKey,
                  external_ref: Annotated[str | None, Query(max_length=200)] = None,
                  cursor: Annotated[str | None, Query(max_length=200)] = None,
                  since: datetime | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Obj:
    """Subjects (pseudonymous ids) oldest first, from ``cursor`` (``next_cursor`` of the
    page before), registered at or after ``since``; ``external_ref`` finds the subject a
    deployer's own reference names. Reading it is audited (``subjects-listed``)."""
    allow(request, key, ApiAction.SUBJECT_REPORT)
    after = Cursor.parse(cursor)
    if after is not None and len(after.key) != 2:
        raise RequestError("not a valid cursor; pass next_cursor back unchanged",
                           details={"errors": [{"at": "cursor", "problem": "invalid"}]})
    found = request.app.state.service.call(lambda d: d.find_subjects(
        after=(after.key[0], after.key[1]) if after else None, since=utc(since),
        external_ref=external_ref, limit=limit + 1, operator=key.principal))
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if found else None
    # A key limited in scope sees the subjects whose holdings all lie in its scope; the
    # cursor still moves past the others, so a page may be short while more follow.
    shown = found if key.scope.unlimited else [
        s for s in found if allowed(key, ApiAction.SUBJECT_REPORT, holdings=request.app.state
                                    .service.call(lambda d, i=s.id: d.subject_holdings(i)))]
    return {"subjects": [jsonable(s) for s in shown],
            "next_cursor": Cursor.of(last.registered_at.isoformat(), last.id)
            if more and last else None}


@router.post("/consents", status_code=201, tags=["subjects"], response_model=ConsentRecorded)
def record_consent(body: ConsentIn, request: Request, key: DeskKey) -> Obj:
    """Record a separate consent (R2, R3; a guardian's for a child, R5) and issue the
    subject's own token, which they use to see their data, withdraw and erase."""
    allow(request, key, ApiAction.CONSENT_DESK, purpose=body.purpose)
    fields = body.model_dump()
    subject, purpose = fields.pop("subject"), fields.pop("purpose")
    event, issued = request.app.state.service.call(lambda d: d.consent_with_token(
        subject=subject, purpose=purpose, operator=key.principal, **fields))
    return {"consent": jsonable(event), "subject_token": issued.secret,
            "withdraw": "POST /v1/me/withdrawals with the subject token, or at the desk"}


@router.post("/withdrawals", tags=["subjects"], response_model=WithdrawalOut)
def withdraw_consent(body: WithdrawalIn, request: Request,
                     key: WithdrawKey) -> Obj:
    """Withdraw consent at the desk (an operator) or on the subject's request (an admin); the
    purpose's templates of the subject are deleted (R4)."""
    allow(request, key, ApiAction.WITHDRAW, purpose=body.purpose, subject=body.subject)
    w = request.app.state.service.call(lambda d: d.withdraw_consent(
        subject=body.subject, purpose=body.purpose, scope=body.scope, operator=key.principal))
    return _withdrawal(w)


@router.post("/declines", tags=["subjects"], response_model=DeclineOut)
def decline(body: DeclineIn, request: Request, key: DeskKey) -> Obj:
    """The person declines face recognition: route them to the alternative, no biometric
    processing (R7)."""
    allow(request, key, ApiAction.CONSENT_DESK, purpose=body.purpose)
    route = request.app.state.service.call(lambda d: d.decline(
        purpose=body.purpose, subject=body.subject, operator=key.principal))
    return {"route_to_alternative": True, "purpose": route.purpose_key,
            "alternatives": jsonable(route.alternatives)}


@router.post("/alternatives", status_code=201, tags=["subjects"],
             response_model=AlternativeOut)
def record_alternative(body: AlternativeIn, request: Request,
                       key: DeskKey) -> Obj:
    """Record how a non-biometric check went (R7)."""
    allow(request, key, ApiAction.CONSENT_DESK, purpose=body.purpose)
    outcome = request.app.state.service.call(lambda d: d.record_alternative_outcome(
        purpose=body.purpose, method=body.method, result=body.result, subject=body.subject,
        operator=key.principal))
    return {"outcome": jsonable(outcome)}


@router.get("/subjects/{subject}/access-report", tags=["subjects"],
            response_model=AccessReportOut)
def access_report(subject: str, request: Request, key: ReportKey) -> Obj:
    """Everything held about a subject: consents, template metadata, events; never vectors."""
    allow(request, key, ApiAction.SUBJECT_REPORT, subject=subject)
    report = request.app.state.service.call(
        lambda d: d.access_report(subject, operator=key.principal))
    return {"report": jsonable(report.as_dict())}


@router.delete("/subjects/{subject}", tags=["subjects"], response_model=ErasureOut)
def erase_subject(subject: str, request: Request, key: EraseKey) -> Obj:
    """Erase a subject on their request: templates, images and data key are destroyed."""
    allow(request, key, ApiAction.ERASE, subject=subject)
    receipt = request.app.state.service.call(
        lambda d: d.erase_subject(subject, operator=key.principal))
    return {"erasure": jsonable(receipt)}


@router.get("/me", tags=["me"], response_model=AccessReportOut)
def my_data(request: Request, key: SelfKey) -> Obj:
    """A subject's own access report (their token)."""
    allow(request, key, ApiAction.SELF, subject=key.subject_id)
    report = request.app.state.service.call(
        lambda d: d.access_report(str(key.subject_id), operator=key.principal))
    return {"report": jsonable(report.as_dict())}


@router.post("/me/withdrawals", tags=["me"], response_model=WithdrawalOut)
def withdraw_mine(body: SelfWithdrawalIn, request: Request,
                  key: SelfKey) -> Obj:
    """A subject withdraws their own consent; their templates for it are deleted at once."""
    allow(request, key, ApiAction.SELF, subject=key.subject_id)
    w = request.app.state.service.call(lambda d: d.withdraw_consent(
        subject=str(key.subject_id), purpose=body.purpose, scope=body.scope,
        method="electronic_signature", operator=key.principal))
    return _withdrawal(w)


@router.delete("/me", tags=["me"], response_model=ErasureOut)
def erase_me(request: Request, key: SelfKey) -> Obj:
    """A subject erases all their data."""
    allow(request, key, ApiAction.SELF, subject=key.subject_id)
    receipt = request.app.state.service.call(
        lambda d: d.erase_subject(str(key.subject_id), operator=key.principal))
    return {"erasure": jsonable(receipt)}
