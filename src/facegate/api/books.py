"""Configuration and the books: processor, sites, purposes, notices, assessments, keys.

Writing needs an admin key; reading the books any staff key. A purpose's notice
is public (the kiosk shows it before anyone has a key, CN Art. 5).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from ..access import ApiAction, Scope
from .common import (
    AdminKey,
    StaffKey,
    StrictBody,
    allow,
    allowed,
    in_scope,
    jsonable,
    sites_in_scope,
)
from .errors import ERROR_RESPONSES
from .models import (
    ActivatedOut,
    AssessmentResponse,
    KeyIssued,
    KeyResponse,
    KeysPage,
    NoticeResponse,
    ProcessorResponse,
    PublicNotice,
    PurposeDetail,
    PurposeResponse,
    PurposesList,
    SiteResponse,
    SitesList,
)
from .pages import Cursor, page

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Text = Field(min_length=1, max_length=2000)

#: What people read, per language (``{"zh": "...", "en": "..."}``); a single string is
#: filed under the language its script shows (facegate.texts).
_ByLanguage = Annotated[dict[Annotated[str, Field(max_length=20)],
                             Annotated[str, Field(max_length=4000)]], Field(max_length=8)]
Words = Annotated[str, Field(max_length=4000)] | _ByLanguage
#: ``{"key": "badge", "name": {"zh": ..., "en": ...}}``, or one string (key and words).
_Key = Annotated[str, Field(max_length=100)]
AlternativeIn = _Key | dict[Literal["key", "name"], _Key | _ByLanguage]


class ProcessorIn(StrictBody):
    name: Words
    contact: Words
    credit_code: str = Field(min_length=1, max_length=64)
    jurisdiction: str = Field(default="cn-2025", max_length=64)
    province: Words = ""
    security_measures: Words = ""


class SiteIn(StrictBody):
    key: str = Field(min_length=1, max_length=100)
    name: Words
    site_type: str = Field(max_length=64)
    public_place: bool = False
    capture_zone: str | None = Field(default=None, max_length=200)
    signage_attested: bool = False


class PurposeIn(StrictBody):
    key: str = Field(min_length=1, max_length=100)
    site: str = Field(min_length=1, max_length=100)
    name: Words | None = None
    description: Words
    necessity: Words
    legal_basis: Words
    modes: list[Literal["verify", "identify"]] = Field(min_length=1, max_length=2)
    alternatives: list[AlternativeIn] = Field(default=[], max_length=20)
    mandate: Words | None = None
    retention_days: int = Field(ge=1, le=36500)
    storage_mode: Literal["device", "central"] = "device"
    liveness_required: bool = False
    public_security: bool = False
    threshold: float | None = Field(default=None, gt=0.0, lt=2.0)
    # None: the best-measured installed pack for the population the purpose serves
    pack: str | None = Field(default=None, max_length=100)
    # None: the jurisdiction profile's default population (R21)
    population: str | None = Field(default=None, max_length=64)


class NoticeIn(StrictBody):
    #: item -> {"zh": ..., "en": ...}
    content: dict[str, Words] = Field(max_length=20)


class AssessmentIn(StrictBody):
    #: item -> {"zh": ..., "en": ...}
    content: dict[str, Words] = Field(max_length=20)
    signed_by: str = Field(min_length=1, max_length=200)


class KeyIn(StrictBody):
    role: Literal["admin", "operator", "reviewer", "auditor"]
    label: str = Field(min_length=1, max_length=200)
    purposes: list[str] | None = Field(default=None, max_length=200)
    sites: list[str] | None = Field(default=None, max_length=200)


Obj = dict[str, Any]


@router.put("/processor", tags=["books"], response_model=ProcessorResponse)
def register_processor(body: ProcessorIn, request: Request,
                       key: AdminKey) -> Obj:
    """Register the processor (once)."""
    allow(request, key, ApiAction.CONFIGURE, whole=True)
    return {"processor": jsonable(request.app.state.service.call(
        lambda d: d.register_processor(**body.model_dump())))}


@router.get("/processor", tags=["books"], response_model=ProcessorResponse)
def get_processor(request: Request, key: StaffKey) -> Obj:
    allow(request, key, ApiAction.READ_BOOKS)
    return {"processor": jsonable(request.app.state.service.call(lambda d: d.processor()))}


@router.post("/sites", status_code=201, tags=["books"], response_model=SiteResponse)
def register_site(body: SiteIn, request: Request, key: AdminKey) -> Obj:
    """Register a capture site (private spaces are refused, R12)."""
    allow(request, key, ApiAction.CONFIGURE, whole=True)
    site = request.app.state.service.call(
        lambda d: d.register_site(**body.model_dump(), operator=key.principal))
    return {"site": jsonable(site)}


@router.get("/sites", tags=["books"], response_model=SitesList)
def list_sites(request: Request, key: StaffKey) -> Obj:
    allow(request, key, ApiAction.READ_BOOKS)
    sites = request.app.state.service.call(lambda d: d.sites())
    return {"sites": [jsonable(s) for s in sites_in_scope(request, key, sites,
                                                          lambda s: str(s.key))]}


@router.post("/purposes", status_code=201, tags=["books"], response_model=PurposeResponse)
def register_purpose(body: PurposeIn, request: Request, key: AdminKey) -> Obj:
    """Register a purpose as a draft (R1, R7, R9, R13 are checked now)."""
    allow(request, key, ApiAction.CONFIGURE, purpose=body.key, site=body.site)
    purpose = request.app.state.service.call(
        lambda d: d.register_purpose(**body.model_dump(), operator=key.principal))
    return {"purpose": jsonable(purpose)}


@router.get("/purposes", tags=["books"], response_model=PurposesList)
def list_purposes(request: Request, key: StaffKey) -> Obj:
    allow(request, key, ApiAction.READ_BOOKS)
    purposes = request.app.state.service.call(lambda d: d.purposes())
    shown = in_scope(request, key)
    return {"purposes": [jsonable(p) for p in purposes if shown(p.key, p.site_key)]}


@router.get("/purposes/{purpose}", tags=["books"], response_model=PurposeDetail)
def get_purpose(purpose: str, request: Request, key: StaffKey) -> Obj:
    allow(request, key, ApiAction.READ_BOOKS, purpose=purpose)
    service = request.app.state.service
    return {"purpose": jsonable(service.call(lambda d: d.purpose(purpose))),
            "activation_warnings": service.call(lambda d: d.activation_warnings(purpose))}


@router.post("/purposes/{purpose}/notice", status_code=201, tags=["books"],
             response_model=NoticeResponse)
def publish_notice(purpose: str, body: NoticeIn, request: Request,
                   key: AdminKey) -> Obj:
    """Publish a new version of the purpose's bilingual notice (R6)."""
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    notice = request.app.state.service.call(
        lambda d: d.publish_notice(purpose=purpose, content=body.content,
                                   operator=key.principal))
    return {"notice": jsonable(notice)}


@router.get("/purposes/{purpose}/notice", tags=["books"], response_model=PublicNotice)
def read_notice(purpose: str, request: Request) -> Obj:
    """The purpose's current notice, public: shown to people before they choose (CN Art. 5)."""
    request.app.state.anonymous_limiter.take(request.client.host if request.client else "-")
    service = request.app.state.service
    p = service.call(lambda d: d.purpose(purpose))
    notice = service.call(lambda d: d.notice(purpose))
    return {"purpose": p.key, "alternatives": jsonable(p.alternatives),
            "notice": jsonable(notice), "text": service.call(lambda d: d.notice_text(purpose))}


@router.post("/purposes/{purpose}/assessments", status_code=201, tags=["books"],
             response_model=AssessmentResponse)
def sign_assessment(purpose: str, body: AssessmentIn, request: Request,
                    key: AdminKey) -> Obj:
    """Record a signed personal information protection impact assessment (R14)."""
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    assessment = request.app.state.service.call(
        lambda d: d.sign_assessment(purpose=purpose, content=body.content,
                                    signed_by=body.signed_by, operator=key.principal))
    return {"assessment": jsonable(assessment)}


@router.post("/purposes/{purpose}/activate", tags=["books"], response_model=ActivatedOut)
def activate_purpose(purpose: str, request: Request, key: AdminKey) -> Obj:
    """Put the purpose live: needs a complete notice, an alternative and a current PIA."""
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    service = request.app.state.service
    p = service.call(lambda d: d.activate_purpose(purpose, operator=key.principal))
    return {"purpose": jsonable(p),
            "warnings": service.call(lambda d: d.activation_warnings(purpose))}


@router.post("/purposes/{purpose}/suspend", tags=["books"], response_model=PurposeResponse)
def suspend_purpose(purpose: str, request: Request, key: AdminKey) -> Obj:
    allow(request, key, ApiAction.CONFIGURE, purpose=purpose)
    p = request.app.state.service.call(
        lambda d: d.suspend_purpose(purpose, operator=key.principal))
    return {"purpose": jsonable(p)}


@router.post("/keys", status_code=201, tags=["keys"], response_model=KeyIssued)
def issue_key(body: KeyIn, request: Request, key: AdminKey) -> Obj:
    """Issue a staff key within the caller's own scope; its secret is in this response only."""
    allow(request, key, ApiAction.CONFIGURE, other_key=Scope(
        purposes=None if body.purposes is None else frozenset(body.purposes),
        sites=None if body.sites is None else frozenset(body.sites)))
    issued = request.app.state.service.call(lambda d: d.issue_api_key(
        role=body.role, label=body.label, purposes=body.purposes, sites=body.sites,
        operator=key.principal))
    return {"key": issued.key.as_dict(), "secret": issued.secret}


@router.get("/keys", tags=["keys"], response_model=KeysPage)
def list_keys(request: Request, key: AdminKey,
              cursor: Annotated[str | None, Query(max_length=200)] = None,
              since: datetime | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Obj:
    """The keys within the caller's own scope: staff keys and subjects' tokens (never a
    secret), oldest first, from ``cursor`` (``next_cursor`` of the page before) and issued
    at or after ``since``."""
    allow(request, key, ApiAction.CONFIGURE)
    keys = [k for k in request.app.state.service.call(lambda d: d.api_keys())
            if allowed(key, ApiAction.CONFIGURE, other_key=k.scope)]
    found, next_cursor = page(keys, key=lambda k: (k.created_at.isoformat(), k.id),
                              cursor=Cursor.parse(cursor), since=since,
                              at=lambda k: k.created_at, limit=limit)
    return {"keys": [k.as_dict() for k in found], "next_cursor": next_cursor}


@router.delete("/keys/{key_id}", tags=["keys"], response_model=KeyResponse)
def revoke_key(key_id: str, request: Request, key: AdminKey) -> Obj:
    """Revoke a key within the caller's own scope."""
    allow(request, key, ApiAction.CONFIGURE)
    target = request.app.state.service.call(lambda d: d.api_key(key_id))
    allow(request, key, ApiAction.CONFIGURE, other_key=target.scope)
    revoked = request.app.state.service.call(
        lambda d: d.revoke_api_key(key_id, operator=key.principal))
    return {"key": revoked.as_dict()}
