"""Oversight: human review of identification hits (R19), the audit log and its check
(R15), the filing counter (R17, R18), and health and readiness probes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from ..access import ApiAction, ApiKey
from ..errors import Error, InvalidArgument, ServiceNotReady
from .common import (
    ActorKey,
    AdminKey,
    AuditorKey,
    ReviewerKey,
    StrictBody,
    allow,
    in_scope,
    jsonable,
    purposes_in_scope,
)
from .errors import ERROR_RESPONSES
from .models import (
    AuditCheck,
    AuditPage,
    CaseDetail,
    CaseResponse,
    CasesPage,
    FilingResponse,
    Health,
    ReviewerOut,
    ReviewSettingsResponse,
)
from .pages import Cursor, page, utc

__all__ = ["health", "router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
health = APIRouter(tags=["health"])

Obj = dict[str, Any]
#: The largest sequence number a store can hold (a signed 64-bit integer).
MAX_SEQ = 2**63 - 1


class ReviewSetup(StrictBody):
    window_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    #: distinct reviewers who confirm a hit; default and least: the jurisdiction's minimum
    reviewers: int | None = Field(default=None, ge=1, le=5)
    #: bar whoever registered the purpose or ran the identification from deciding its cases
    bar_own: bool = False


class ReviewerIn(StrictBody):
    """One of the two: a reviewer account (a person) or a reviewer key."""

    #: the reviewer account's name (or id)
    reviewer_account: str | None = Field(default=None, min_length=1, max_length=100)
    #: the reviewer key's id (``k_...``)
    reviewer_key: str | None = Field(default=None, min_length=1, max_length=100)


class DecisionIn(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


class ActionIn(StrictBody):
    action: str = Field(min_length=1, max_length=200)


def _case(case: Any) -> Obj:
    out: Obj = jsonable(case)
    out["confirmations"] = case.confirmations
    return out


@router.put("/purposes/{purpose}/review", tags=["review"], response_model=ReviewSettingsResponse)
def configure_review(purpose: str, body: ReviewSetup, request: Request,
                     key: AdminKey) -> Obj:
    """Make every identification hit of the purpose a review case (R19)."""
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    settings = request.app.state.service.call(lambda d: d.configure_review(
        purpose=purpose, window=timedelta(minutes=body.window_minutes),
        reviewers=body.reviewers, bar_own=body.bar_own, operator=key.principal))
    return {"review": jsonable(settings)}


@router.post("/purposes/{purpose}/reviewers", status_code=201, tags=["review"],
             response_model=ReviewerOut)
def authorise_reviewer(purpose: str, body: ReviewerIn, request: Request,
                       key: AdminKey) -> Obj:
    """Authorise a reviewer account (or a reviewer key) to decide the purpose's cases."""
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    if (body.reviewer_account is None) == (body.reviewer_key is None):
        raise InvalidArgument("name one reviewer: reviewer_account or reviewer_key")
    account, key_id = body.reviewer_account, body.reviewer_key
    if account is not None:
        reviewer = request.app.state.service.call(lambda d: d.authorise_reviewer_account(
            purpose=purpose, account=account, operator=key.principal))
    else:
        reviewer = request.app.state.service.call(lambda d: d.authorise_reviewer_key(
            purpose=purpose, key_id=key_id, operator=key.principal))
    return {"purpose": purpose, "reviewer": reviewer.principal}


@router.get("/review/cases", tags=["review"], response_model=CasesPage)
def review_cases(request: Request, key: ReviewerKey,
                 purpose: Annotated[str | None, Query(max_length=100)] = None,
                 status: Literal["pending", "confirmed", "rejected", "expired"] | None = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None,
                 since: datetime | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Obj:
    """Review cases within the key's scope, oldest first, from ``cursor`` (``next_cursor``
    of the page before), opened at or after ``since``."""
    allow(request, key, ApiAction.REVIEW, purpose=purpose)
    cases = request.app.state.service.call(lambda d: d.review_cases(purpose=purpose,
                                                                    status=status))
    shown = in_scope(request, key)
    mine = [c for c in cases if shown(c.purpose_key, None)]
    found, next_cursor = page(mine, key=lambda c: (c.created_at.isoformat(), c.id),
                              cursor=Cursor.parse(cursor), since=since,
                              at=lambda c: c.created_at, limit=limit)
    return {"cases": [_case(c) for c in found], "next_cursor": next_cursor}


def _scoped_case(request: Request, key: ApiKey, case_id: str, action: ApiAction) -> Any:
    allow(request, key, action)
    case = request.app.state.service.call(lambda d: d.review_case(case_id))
    allow(request, key, action, purpose=case.purpose_key)
    return case


#: Headers of a face shown to a reviewer: kept by no cache, on no disk.
NO_STORE = {"cache-control": "no-store, max-age=0", "pragma": "no-cache", "expires": "0"}
_JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "the face, as JPEG"}}


def case_evidence(evidence: Any, *, images: str) -> Obj:
    """A case's evidence as the API and the dashboard show it; ``images`` is where its
    faces are opened (``/v1/review/cases/<id>``)."""
    return {"fmr": None if evidence.fmr is None else evidence.fmr.as_dict(),
            "reference": evidence.reference,
            "instead": None if evidence.instead is None else dict(evidence.instead),
            "images": {"probe": f"{images}/probe",
                       "reference": f"{images}/reference" if evidence.reference else None}}


@router.get("/review/cases/{case_id}", tags=["review"], response_model=CaseDetail)
def review_case(case_id: str, request: Request, key: ReviewerKey) -> Obj:
    """A case with what its reviewer decides on: the false-match rate of its distance on
    the purpose's calibration with its 95% interval, whether a reference photo of the
    candidate was kept (R10) or what to check against instead, and where its faces are."""
    case = _scoped_case(request, key, case_id, ApiAction.REVIEW)
    evidence = request.app.state.service.call(lambda d: d.review_evidence(case.id))
    return {"case": _case(evidence.case),
            "evidence": case_evidence(evidence, images=f"/v1/review/cases/{case.id}")}


def face_response(jpeg: bytes) -> Response:
    """A face for a reviewer: JPEG from memory, never cached (the API and the dashboard)."""
    return Response(jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.get("/review/cases/{case_id}/probe", tags=["review"], response_class=Response,
            responses=_JPEG)
def review_probe(case_id: str, request: Request, key: ReviewerKey) -> Response:
    """The probe's face of a pending case, cut from the sealed probe with a margin, for an
    authorised reviewer of its purpose; audited, never cached (R19)."""
    _scoped_case(request, key, case_id, ApiAction.REVIEW)
    return face_response(request.app.state.service.call(lambda d: d.review_face(
        case_id, reviewer=key.principal, image="probe")))


@router.get("/review/cases/{case_id}/reference", tags=["review"], response_class=Response,
            responses=_JPEG)
def review_reference(case_id: str, request: Request, key: ReviewerKey) -> Response:
    """The candidate's reference photo of a pending case, where one was kept with its own
    consent (R10; else 404 ``review.no_reference``, saying what to check instead);
    audited, never cached."""
    _scoped_case(request, key, case_id, ApiAction.REVIEW)
    return face_response(request.app.state.service.call(lambda d: d.review_face(
        case_id, reviewer=key.principal, image="reference")))


@router.post("/review/cases/{case_id}/confirm", tags=["review"], response_model=CaseResponse)
def confirm_case(case_id: str, body: DecisionIn, request: Request,
                 key: ReviewerKey) -> Obj:
    """Confirm a hit; it takes the profile's number of distinct reviewers (R19)."""
    _scoped_case(request, key, case_id, ApiAction.REVIEW)
    case = request.app.state.service.call(lambda d: d.confirm_case(
        case_id, reviewer=key.principal, reason=body.reason))
    return {"case": _case(case)}


@router.post("/review/cases/{case_id}/reject", tags=["review"], response_model=CaseResponse)
def reject_case(case_id: str, body: DecisionIn, request: Request,
                key: ReviewerKey) -> Obj:
    _scoped_case(request, key, case_id, ApiAction.REVIEW)
    case = request.app.state.service.call(lambda d: d.reject_case(
        case_id, reviewer=key.principal, reason=body.reason))
    return {"case": _case(case)}


@router.post("/review/cases/{case_id}/act", tags=["review"], response_model=CaseResponse)
def act_on_case(case_id: str, body: ActionIn, request: Request,
                key: ActorKey) -> Obj:
    """Act on a confirmed hit (open a door...); refused until confirmed (R19)."""
    _scoped_case(request, key, case_id, ApiAction.ACT_ON_CASE)
    case = request.app.state.service.call(lambda d: d.act_on_case(
        case_id, action=body.action, operator=key.principal))
    return {"case": _case(case)}


@router.get("/audit/verify", tags=["audit"], response_model=AuditCheck)
def verify_audit(request: Request, key: AuditorKey) -> Obj:
    """Check the whole audit log against its signed checkpoint, and the template and consent
    tables against it (R15); the whole deployment, so unscoped keys only."""
    allow(request, key, ApiAction.AUDIT, whole=True)
    report = request.app.state.service.call(lambda d: d.verify_audit())
    return {"intact": True, "entries": report.entries, "head": report.head,
            "checkpoint_seq": report.checkpoint_seq}


@router.get("/audit/events", tags=["audit"], response_model=AuditPage)
def audit_events(request: Request, key: AuditorKey,
                 name: Annotated[str | None, Query(max_length=100)] = None,
                 after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
                 since: datetime | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Obj:
    """Audit entries after sequence number ``after`` (the cursor: ``next_after`` of the page
    before), recorded at or after ``since``, oldest first; a key limited in scope sees only
    the entries of its purposes."""
    allow(request, key, ApiAction.AUDIT)
    purposes = purposes_in_scope(request, key)
    entries = request.app.state.service.call(lambda d: d.audit_events(
        name, after=after, since=utc(since), limit=limit, purposes=purposes))
    return {"events": [jsonable(e) for e in entries],
            "next_after": entries[-1].seq if len(entries) == limit else None}


@router.get("/filing", tags=["audit"], response_model=FilingResponse)
def filing(request: Request, key: AuditorKey) -> Obj:
    """Stored individuals against the filing threshold, with every filing record; the whole
    deployment, so unscoped keys only."""
    allow(request, key, ApiAction.AUDIT, whole=True)
    status = request.app.state.service.call(lambda d: d.filing_status())
    return {"filing": {**jsonable(status), "filed": status.filed}}


@health.get("/health", response_model=Health)
def alive() -> Obj:
    """The process is up."""
    return {"status": "ok"}


@health.get("/ready", responses={503: ERROR_RESPONSES[503]}, response_model=Health)
def ready(request: Request) -> Obj:
    """The store answers and the processor is registered."""
    try:
        processor = request.app.state.service.call(lambda d: d.processor())
    except Error as exc:
        raise ServiceNotReady("the store is not ready", details={"cause": exc.code}) from None
    if processor is None:
        raise ServiceNotReady("no processor is registered yet")
    return {"status": "ready"}
