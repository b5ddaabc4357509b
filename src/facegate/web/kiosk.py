"""The enrollment kiosk: notice, an honest choice, separate consent, capture, a receipt.

A kiosk is a browser that staff signed in once with an operator key and tied
to one purpose (``/kiosk/setup``). A visit then runs: the purpose's published
notice in Chinese or English (CN Art. 5); two choices of equal weight, face
recognition or the purpose's alternative (Art. 10, 12); a separate consent,
a guardian's for a child under 14 (Arts. 6, 7); capture from the browser's
camera with live guidance and, when the purpose requires it, a liveness
challenge; enrollment and a first verification; a receipt with the subject's
own token and how to withdraw. Declining calls :meth:`Deployment.decline` and
nothing else: no subject, no image, no template. Every call is the same
:class:`~facegate.deployment.Deployment` method the API calls, under the
same role and scope checks.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from ..access import ApiAction, ApiKey, Role
from ..api.common import allow, read_image_body, run, service_of
from ..errors import (
    CredentialInvalid,
    FaceError,
    Forbidden,
    ImageError,
    LivenessError,
    LivenessRequired,
    MultipleFaces,
    NoFaceFound,
    RequestError,
)
from ..liveness.frames import Frame
from . import sessions
from .auth import see_other, signed_in
from .i18n import GUIDANCE, ITEM_HEADINGS, LANGUAGES, text
from .pages import render

__all__ = ["router"]

router = APIRouter(prefix="/kiosk", include_in_schema=False)

_AGE_BANDS = ("under_14", "14_15", "16_17", "adult")
_MAX_FRAMES = 60


def _kiosk(request: Request, action: ApiAction) -> tuple[sessions.Session, ApiKey, str]:
    """The kiosk's session, operator key and purpose, allowed ``action`` on it."""
    session, key = signed_in(request)
    purpose = session.kiosk_purpose
    if purpose is None and key.role is Role.OPERATOR and key.purposes and len(key.purposes) == 1:
        purpose = session.kiosk_purpose = next(iter(key.purposes))
    if purpose is None:
        allow(request, key, action)
        raise Forbidden("this browser is not set up as a kiosk yet: staff open /kiosk/setup")
    allow(request, key, action, purpose=purpose)
    return session, key, purpose


def _visit(session: sessions.Session, request: Request, *steps: str) -> dict[str, Any] | None:
    visit = session.touch_visit(sessions.session_store(request).now())
    return visit if visit.get("step") in steps else None


def _post(request: Request, csrf: str) -> None:
    sessions.check_csrf(request, sessions.current(request), csrf)


def _page(request: Request, template: str, purpose: str, **context: Any) -> Response:
    """A kiosk page: the purpose, its current notice and the processor come from the books."""
    service = service_of(request)
    return render(request, template, purpose=service.call(lambda d: d.purpose(purpose)),
                  notice=service.call(lambda d: d.notice(purpose)),
                  processor=service.call(lambda d: d.processor()), headings=ITEM_HEADINGS,
                  languages=LANGUAGES, bands=_AGE_BANDS, **context)


@router.get("/setup")
def setup_page(request: Request) -> Response:
    """Staff tie this browser to a purpose; it then shows only the kiosk."""
    _, key = signed_in(request, ApiAction.CONSENT_DESK)
    purposes = [p for p in service_of(request).call(lambda d: d.purposes())
                if p.status == "active" and (key.purposes is None or p.key in key.purposes)]
    return render(request, "kiosk/setup.html", purposes=purposes, kiosk=True)


@router.post("/setup")
def setup(request: Request, purpose: Annotated[str, Form(max_length=100)],
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    _post(request, csrf)
    session, _ = signed_in(request, ApiAction.BIOMETRIC, purpose=purpose)
    service_of(request).call(lambda d: d.purpose(purpose))
    session.kiosk_purpose = purpose
    session.visit = {}
    return see_other(request, "/kiosk")


@router.get("/prefs")
def prefs(request: Request, lang: str | None = None, large: str | None = None,
          back: str = "/kiosk") -> Response:
    """Switch the language or large text; harmless as a GET, like a link."""
    session = sessions.ensure(request)
    if lang in LANGUAGES:
        session.lang = lang
    if large in ("0", "1"):
        session.large = large == "1"
    return see_other(request, back if back.startswith("/kiosk") else "/kiosk")


@router.get("")
def start(request: Request) -> Response:
    """The notice and the choice."""
    first, key = signed_in(request)
    if first.kiosk_purpose is None and not (key.purposes and len(key.purposes) == 1):
        return see_other(request, "/kiosk/setup")
    session, key, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    visit = session.touch_visit(sessions.session_store(request).now())
    if visit.get("step") not in (None, "notice"):
        visit.clear()
    visit["step"] = "notice"
    return _page(request, "kiosk/notice.html", purpose, step=1)


@router.post("/choice")
def choose(request: Request, choice: Annotated[str, Form(max_length=20)],
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Face recognition leads to the consent step; the alternative to
    :meth:`Deployment.decline` and nothing else (R7)."""
    _post(request, csrf)
    session, key, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    visit = session.touch_visit(sessions.session_store(request).now())
    if choice == "face":
        visit.clear()
        visit["step"] = "consent"
        return see_other(request, "/kiosk/consent")
    subject = visit.get("subject")
    if subject:  # stopping after consent withdraws it; any template is deleted (R4)
        service_of(request).call(lambda d: d.withdraw_consent(
            subject=subject, purpose=purpose, operator=key.principal))
    route = service_of(request).call(lambda d: d.decline(
        purpose=purpose, subject=subject, operator=key.principal))
    visit.clear()
    visit.update(step="alternative", alternatives=list(route.alternatives))
    return see_other(request, "/kiosk/alternative")


@router.get("/alternative")
def alternative(request: Request) -> Response:
    session, _, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    visit = _visit(session, request, "alternative")
    if visit is None:
        return see_other(request, "/kiosk")
    return _page(request, "kiosk/alternative.html", purpose, alternatives=visit["alternatives"],
                 step=2)


@router.get("/consent")
def consent_page(request: Request) -> Response:
    session, _, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    if _visit(session, request, "consent") is None:
        return see_other(request, "/kiosk")
    return _page(request, "kiosk/consent.html", purpose, step=2, error=None, form={})


@router.post("/consent")
def consent(request: Request, csrf: Annotated[str, Form(max_length=200)] = "",
            age_band: Annotated[str, Form(max_length=20)] = "",
            guardian: Annotated[str, Form(max_length=200)] = "",
            guardian_relation: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Register a pseudonymous subject and record their separate consent (a guardian's
    under 14), against the notice version shown; the subject's token is kept for the
    receipt only."""
    _post(request, csrf)
    session, key, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    visit = _visit(session, request, "consent")
    if visit is None:
        return see_other(request, "/kiosk")
    form = {"age_band": age_band, "guardian": guardian, "guardian_relation": guardian_relation}
    error = None
    if age_band not in _AGE_BANDS:
        error = "need_age"
    elif age_band == "under_14" and not (guardian.strip() and guardian_relation.strip()):
        error = "need_guardian"
    if error:
        return _page(request, "kiosk/consent.html", purpose, step=2, error=error, form=form,
                     status=422)
    service = service_of(request)
    notice = service.call(lambda d: d.notice(purpose))
    version = notice.version if notice else None
    subject = service.call(lambda d: d.register_subject(age_band=age_band,
                                                       operator=key.principal))
    _, issued = service.call(lambda d: d.consent_with_token(
        subject=subject.id, purpose=purpose, notice_version=version, method="on_screen",
        guardian=guardian.strip() or None, guardian_relation=guardian_relation.strip() or None,
        operator=key.principal))
    visit.update(step="capture", subject=subject.id, token=issued.secret, notice_version=version)
    return see_other(request, "/kiosk/capture")


def _capture_page(request: Request, mode: str, problem: str | None) -> Response:
    session, _, purpose = _kiosk(request, ApiAction.BIOMETRIC)
    if _visit(session, request, "capture" if mode == "enroll" else "check") is None:
        return see_other(request, "/kiosk")
    known = {"no_face", "multiple", "quality", "liveness", "image"}
    return _page(request, "kiosk/capture.html", purpose, mode=mode,
                 step=3 if mode == "enroll" else 4, problem=problem if problem in known else None)


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
    _post(request, str(body.fields.get("csrf", "")))
    session, key, purpose = _kiosk(request, ApiAction.BIOMETRIC)
    visit = _visit(session, request, "capture", "check")
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
    _post(request, csrf)
    session, key, purpose = _kiosk(request, ApiAction.BIOMETRIC)
    visit = _visit(session, request, "capture", "check")
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
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise RequestError("send {nonce, frames: [{at, image}]}") from None
    _post(request, str(data.get("csrf", "")))
    session, key, _ = _kiosk(request, ApiAction.BIOMETRIC)
    visit = _visit(session, request, "capture", "check")
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
    _post(request, str(body.fields.get("csrf", "")))
    session, key, purpose = _kiosk(request, ApiAction.BIOMETRIC)
    visit = _visit(session, request, "capture" if mode == "enroll" else "check")
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


@router.get("/done")
def done(request: Request) -> Response:
    """The result and the receipt: token, purpose, retention, how to withdraw."""
    session, _, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    visit = _visit(session, request, "result")
    if visit is None:
        return see_other(request, "/kiosk")
    return _page(request, "kiosk/done.html", purpose, visit=visit, step=5)


@router.post("/again")
def again(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Try the check once more."""
    _post(request, csrf)
    session = _kiosk(request, ApiAction.BIOMETRIC)[0]
    visit = _visit(session, request, "result")
    if visit is None:
        return see_other(request, "/kiosk")
    visit["step"] = "check"
    return see_other(request, "/kiosk/check")


@router.post("/finish")
def finish(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the visit; the token is not shown again."""
    _post(request, csrf)
    session, _, _ = _kiosk(request, ApiAction.CONSENT_DESK)
    session.visit = {}
    return see_other(request, "/kiosk")


@router.get("/withdraw")
def withdraw_page(request: Request) -> Response:
    session, _, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    session.visit = {}
    return _page(request, "kiosk/withdraw.html", purpose, outcome=None, step=0)


@router.post("/withdraw")
def withdraw(request: Request, token: Annotated[str, Form(max_length=200)],
             csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """A subject withdraws with their own token (as ``POST /v1/me/withdrawals``)."""
    _post(request, csrf)
    _, _, purpose = _kiosk(request, ApiAction.CONSENT_DESK)
    service = service_of(request)
    try:
        own = service.call(lambda d: d.authenticate(token.strip()))
        if own.role is not Role.SUBJECT:
            raise CredentialInvalid("not a personal token")
    except CredentialInvalid as exc:
        refusal = exc
        service.call(lambda d: d.record_access_refusal(refusal, operator="kiosk",
                                                       action="POST /kiosk/withdraw"))
        return _page(request, "kiosk/withdraw.html", purpose, outcome="bad", step=0, status=401)
    allow(request, own, ApiAction.SELF, subject=own.subject_id)
    w = service.call(lambda d: d.withdraw_consent(
        subject=str(own.subject_id), purpose=purpose, method="electronic_signature",
        operator=own.principal))
    return _page(request, "kiosk/withdraw.html", purpose, outcome="done",
                 deleted=w.templates_deleted, step=0)
