"""Cameras: register (an admin, through the gate: R12, R13, R1), list and read (staff),
start and stop their streams in the service's process and send a verification camera
its claimed identities (an operator: the card reader's system), within scope.

A camera's stream runs in the process that started it, with the grants of its session;
its state and counts are in the store, so any process answers for every camera. A
stored source is a stream URL or a ``/dev/videoN`` device, never a path on the server,
and it is shown only with its credentials redacted. Nothing here returns a picture.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from ..access import ApiAction, ApiKey
from .common import AdminKey, OperatorKey, StaffKey, StrictBody, allow, in_scope
from .errors import ERROR_RESPONSES
from .models import CameraList, CameraResponse, CameraStopped, ClaimResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Obj = dict[str, Any]


class CameraIn(StrictBody):
    id: str = Field(min_length=1, max_length=100)
    site: str = Field(min_length=1, max_length=200)
    purposes: list[str] = Field(min_length=1, max_length=8)
    mode: Literal["identify", "verify"] = "identify"
    placement: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=200)
    signage: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=2000)


class ClaimIn(StrictBody):
    #: the subject's external reference (a card number, a PIN's owner) or pseudonymous id
    subject: str = Field(min_length=1, max_length=200)
    purpose: str | None = Field(default=None, max_length=200)
    window: float = Field(default=10.0, ge=0.5, le=60.0)


def _within(request: Request, key: ApiKey, action: ApiAction, camera: str) -> Obj:
    """The camera's state, once the key may reach every purpose it serves (and its site)."""
    state = _state(request, camera)
    for purpose in state["purposes"]:
        allow(request, key, action, purpose=purpose, site=state["site"])
    return state


def _state(request: Request, camera: str) -> Obj:
    def find(d: Any) -> Obj:
        d.camera(camera)  # camera.not_found
        return next(s.as_dict() for s in d.camera_states() if s.camera.id == camera)
    return dict(request.app.state.service.call(find))


@router.post("/cameras", status_code=201, tags=["cameras"], response_model=CameraResponse)
def register_camera(body: CameraIn, request: Request, key: AdminKey) -> Obj:
    """Register a camera at a site for its purposes: refused in a private space (R12), at a
    public place without a public-security purpose or a sign's record (R13), for a purpose
    of another site (R1). Its source is kept sealed and shown redacted."""
    for purpose in body.purposes:
        allow(request, key, ApiAction.CONFIGURE, purpose=purpose, site=body.site)
    request.app.state.service.call(lambda d: d.register_camera(
        id=body.id, site=body.site, purposes=body.purposes, mode=body.mode,
        placement=body.placement, label=body.label, signage=body.signage, source=body.source,
        operator=key.principal))
    return {"camera": _state(request, body.id)}


@router.get("/cameras", tags=["cameras"], response_model=CameraList)
def list_cameras(request: Request, key: StaffKey) -> Obj:
    """Every camera whose purposes all lie in the key's scope, with its stream's state and
    counts (never a picture)."""
    allow(request, key, ApiAction.READ_BOOKS)
    shown = in_scope(request, key)
    states = request.app.state.service.call(lambda d: [s.as_dict() for s in d.camera_states()])
    return {"cameras": [s for s in states
                        if all(shown(p, s["site"]) for p in s["purposes"])]}


@router.get("/cameras/{camera}", tags=["cameras"], response_model=CameraResponse)
def get_camera(camera: str, request: Request, key: StaffKey) -> Obj:
    """One camera, its stream's state and counts."""
    return {"camera": _within(request, key, ApiAction.READ_BOOKS, camera)}


@router.post("/cameras/{camera}/start", tags=["cameras"], response_model=CameraResponse)
def start_camera(camera: str, request: Request, key: OperatorKey) -> Obj:
    """Start the camera's stream in this service from its stored source (the gate asked for
    each purpose; audited as ``stream-started``)."""
    _within(request, key, ApiAction.BIOMETRIC, camera)
    request.app.state.service.call(lambda d: d.watch(camera, operator=key.principal))
    return {"camera": _state(request, camera)}


@router.post("/cameras/{camera}/claims", status_code=201, tags=["cameras"],
             response_model=ClaimResponse)
def claim_identity(camera: str, body: ClaimIn, request: Request, key: OperatorKey) -> Obj:
    """A claimed identity (a card reader, a PIN) for a verification camera whose stream runs
    in this service: the first face decided within ``window`` seconds is compared 1:1
    with this subject alone, once (``door.open`` or ``door.refused``); none comes: it
    expires (``door.refused``, reason ``expired``). The gate is asked first: a subject
    without live consent is refused with the rule (R2, R4)."""
    _within(request, key, ApiAction.BIOMETRIC, camera)
    claim = request.app.state.service.call(lambda d: d.claim(
        camera, subject=body.subject, purpose=body.purpose, window=body.window,
        operator=key.principal))
    return {"claim": {"id": claim.id, "camera": camera, "purpose": claim.purpose_key,
                      "window": round(claim.expires_at - claim.made_at, 3)}}


@router.post("/cameras/{camera}/stop", tags=["cameras"], response_model=CameraStopped)
def stop_camera(camera: str, request: Request, key: OperatorKey) -> Obj:
    """Stop the camera's stream (``stream-stopped`` with its counts is audited by the
    process that runs it; at once when that is this one)."""
    _within(request, key, ApiAction.BIOMETRIC, camera)
    summary = request.app.state.service.call(
        lambda d: d.stop_camera(camera, operator=key.principal))
    return {"camera": _state(request, camera),
            "session": summary.session_id if summary is not None else None,
            "counts": dict(summary.counts) if summary is not None else None}
