"""The kiosk's camera steps: the capture and check pages, live guidance on camera
frames, the liveness challenge and its answer, and the enroll and verify they lead to.

Each call is the same :class:`~facegate.deployment.Deployment` method the API
calls (``assess_capture``, ``liveness_challenge``, ``check_liveness``,
``enroll``, ``verify``) under an operator key allowed the biometric action on
the kiosk's purpose. A face or image problem sends the person back to the
step with a plain-words hint; nothing is kept of a frame.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from ..access import ApiAction
from ..api.common import read_image_body, run, service_of
from ..errors import (
    FaceError,
    ImageError,
    LivenessError,
    LivenessRequired,
    MultipleFaces,
    NoFaceFound,
    RequestError,
)
from ..liveness.frames import Frame
from . import sessions
from .auth import see_other
from .i18n import GUIDANCE, text
from .kiosk import kiosk_of, kiosk_page, visit_at

__all__ = ["router"]

router = APIRouter(prefix="/kiosk", include_in_schema=False)

_MAX_FRAMES = 60


def _capture_page(request: Request, mode: str, problem: str | None) -> Response:
    session, _, purpose = kiosk_of(request, ApiAction.BIOMETRIC)
    if visit_at(session, request, "capture" if mode == "enroll" else "check") is None:
        return see_other(request, "/kiosk")
    known = {"no_face", "multiple", "quality", "liveness", "image"}
    return kiosk_page(request, "kiosk/capture.html", purpose, mode=mode,
                      step=3 if mode == "enroll" else 4,
                      problem=problem if problem in known else None)


@router.get("/capture")
def capture_page(request: Request, problem: str | None = None) -> Response:
    return _capture_page(request, "enroll", problem)


@router.get("/check")
def check_page(request: Request, problem: str | None = None) -> Response:
    return _capture_page(request, "verify", problem)


def _problem(exc: Exception) -> str:
    if isinstance(exc, NoFaceFound):
        return "no_face"
    if isinstance(exc, MultipleFaces):
        return "multiple"
    if isinstance(exc, (LivenessRequired, LivenessError)):
        return "liveness"
    if isinstance(exc, ImageError):
        return "image"
    return "quality"


@router.post("/guidance")
async def guidance(request: Request) -> Response:
    """Live guidance on one camera frame: what to adjust, in the visit's language."""
    body = await read_image_body(request)
    sessions.check_form(request, str(body.fields.get("csrf", "")))
    session, key, purpose = kiosk_of(request, ApiAction.BIOMETRIC)
    visit = visit_at(session, request, "capture", "check")
    if visit is None:
        raise RequestError("no capture in progress")
    operation = "enroll" if visit["step"] == "capture" else "verify"
    try:
        advice = await run(request, lambda d: d.assess_capture(
            subject=visit["subject"], purpose=purpose, image=body.image, operation=operation,
            operator=key.principal))
    except ImageError:
        return JSONResponse({"passed": False, "reasons": ["no_face"],
                             "message": GUIDANCE["no_face"][session.lang]})
    reason = advice.reasons[0] if advice.reasons else "ok"
    return JSONResponse({"passed": advice.passed, "reasons": list(advice.reasons),
                         "message": GUIDANCE.get(reason, GUIDANCE["low_confidence"])[session.lang]})


@router.post("/liveness/challenge")
def liveness_challenge(request: Request,
                       csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """A liveness challenge for the purpose; its actions in the visit's language."""
    sessions.check_form(request, csrf)
    session, key, purpose = kiosk_of(request, ApiAction.BIOMETRIC)
    visit = visit_at(session, request, "capture", "check")
    if visit is None:
        raise RequestError("no capture in progress")
    c = service_of(request).call(lambda d: d.liveness_challenge(purpose=purpose,
                                                                operator=key.principal))
    visit["challenge"] = c.id
    return JSONResponse({"challenge": c.id, "nonce": c.nonce, "actions": [
        {"action": a.value, "label": GUIDANCE[a.value][session.lang]} for a in c.actions]})


@router.post("/liveness/answer")
async def liveness_answer(request: Request) -> Response:
    """The answer's frames (JSON, base64); a pass keeps the receipt for the next capture."""
    try:
        data = json.loads(await request.body())
        frames = [Frame(at=float(f["at"]), image=base64.b64decode(f["image"], validate=True))
                  for f in data["frames"][:_MAX_FRAMES]]
        nonce = str(data.get("nonce", ""))
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
        raise RequestError("send {nonce, frames: [{at, image}]}") from None
    sessions.check_form(request, str(data.get("csrf", "")))
    session, key, _ = kiosk_of(request, ApiAction.BIOMETRIC)
    visit = visit_at(session, request, "capture", "check")
    if visit is None or "challenge" not in visit:
        raise RequestError("no liveness challenge in progress")
    challenge = visit.pop("challenge")
    try:
        check = await run(request, lambda d: d.check_liveness(
            challenge=challenge, frames=frames, nonce=nonce, operator=key.principal))
    except LivenessError:
        return JSONResponse({"passed": False, "message": text("problem_liveness", session.lang)})
    visit["receipt"] = check.receipt.id
    return JSONResponse({"passed": True})


async def _capture(request: Request, mode: str) -> Response:
    body = await read_image_body(request)
    sessions.check_form(request, str(body.fields.get("csrf", "")))
    session, key, purpose = kiosk_of(request, ApiAction.BIOMETRIC)
    visit = visit_at(session, request, "capture" if mode == "enroll" else "check")
    if visit is None:
        return see_other(request, "/kiosk")
    receipt = visit.pop("receipt", None)
    subject = visit["subject"]
    here = "/kiosk/capture" if mode == "enroll" else "/kiosk/check"
    try:
        if mode == "enroll":
            await run(request, lambda d: d.enroll(subject=subject, purpose=purpose,
                                                  image=body.image, liveness=receipt,
                                                  operator=key.principal))
            visit.update(step="check", enrolled=True)
            return see_other(request, "/kiosk/check")
        result = await run(request, lambda d: d.verify(subject=subject, purpose=purpose,
                                                       image=body.image, liveness=receipt,
                                                       operator=key.principal))
    except (FaceError, ImageError, LivenessRequired) as exc:
        return see_other(request, f"{here}?problem={_problem(exc)}")
    visit.update(step="result", matched=bool(getattr(result, "matched", False)))
    return see_other(request, "/kiosk/done")


@router.post("/capture")
async def capture(request: Request) -> Response:
    """Enroll from the captured photo (the policy gate decides, as for the API)."""
    return await _capture(request, "enroll")


@router.post("/check")
async def check(request: Request) -> Response:
    """Verify the freshly enrolled subject from a second photo."""
    return await _capture(request, "verify")
