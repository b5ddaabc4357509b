"""Biometric operations: enroll, verify, identify, liveness. Operator keys only, within
their scope; every call passes the deployment's policy gate.

Images come as ``multipart/form-data`` (an ``image`` file part) or as JSON with
the image in base64. Every response names the model pack and version that
made or matched the templates. Enroll takes an ``Idempotency-Key`` header: the
same key and body get the first answer again, without a second template.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.datastructures import UploadFile

from ..access import ApiAction
from ..errors import MediaTypeUnsupported, RequestError
from ..liveness.frames import MAX_FRAMES, Frame
from .common import (
    OperatorKey,
    StrictBody,
    allow,
    image_request_body,
    json_object,
    jsonable,
    model_info,
    read_image_body,
    run,
    service_of,
    validate,
)
from .errors import ERROR_RESPONSES
from .models import ChallengeOut, EnrollOut, IdentifyOut, LivenessOut, VerifyOut

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["biometrics"])

Obj = dict[str, Any]
Key = Field(min_length=1, max_length=100)


class EnrollFields(StrictBody):
    subject: str = Key
    purpose: str = Key
    retain_image: bool = False
    liveness: str | None = Field(default=None, max_length=100)


class VerifyFields(StrictBody):
    subject: str = Key
    purpose: str = Key
    liveness: str | None = Field(default=None, max_length=100)


class IdentifyFields(StrictBody):
    purpose: str = Key
    limit: int = Field(default=5, ge=1, le=100)


class ChallengeIn(StrictBody):
    purpose: str = Key




@router.post("/enroll", status_code=201, openapi_extra=image_request_body(EnrollFields),
             response_model=EnrollOut)
async def enroll(request: Request, key: OperatorKey,
                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> Obj:
    """Store the subject's sealed template for the purpose (the image is not kept unless
    ``retain_image`` and its separate consent, R10)."""
    body = await read_image_body(request)
    fields = validate(EnrollFields, body.fields, form=body.form)
    allow(request, key, ApiAction.BIOMETRIC, purpose=fields.purpose)
    d = service_of(request).deployment
    if idempotency_key is not None:
        answered = await run(request, lambda d: d.idempotent_answer(
            key_id=key.id, idempotency_key=idempotency_key, request_hash=body.digest))
        if answered is not None:
            return JSONResponse(EnrollOut.model_validate(answered[1]).model_dump(mode="json"),
                                status_code=answered[0])  # type: ignore[return-value]
    # The engine's part first, outside any transaction: an idempotent enrollment then
    # holds the store's writer lock only for its records.
    prepared = await run(request, lambda d: d.prepare_enrollment(
        subject=fields.subject, purpose=fields.purpose, image=body.image,
        retain_image=fields.retain_image, liveness=fields.liveness, operator=key.principal))

    def work() -> tuple[int, Obj]:
        e = d.enroll(
            subject=fields.subject, purpose=fields.purpose, image=body.image,
            retain_image=fields.retain_image, liveness=fields.liveness,
            operator=key.principal, prepared=prepared)
        return 201, {"subject": e.subject_id, "purpose": e.purpose_key,
                     "template": e.template_uid, "expires_at": e.expires_at.isoformat(),
                     "new_individual": e.new_individual, "image_retained": bool(e.image_uid),
                     "model": model_info(e.pack)}

    if idempotency_key is None:
        status, result = await run(request, lambda d: work())
    else:
        status, result = await run(request, lambda d: d.idempotent(
            key_id=key.id, idempotency_key=idempotency_key, request_hash=body.digest,
            run=work))
    return JSONResponse(EnrollOut.model_validate(result).model_dump(mode="json"),
                        status_code=status)  # type: ignore[return-value]


@router.post("/verify", openapi_extra=image_request_body(VerifyFields), response_model=VerifyOut)
async def verify(request: Request, key: OperatorKey) -> Obj:
    """Is this the subject? 1:1 against their templates for the purpose."""
    body = await read_image_body(request)
    fields = validate(VerifyFields, body.fields, form=body.form)
    allow(request, key, ApiAction.BIOMETRIC, purpose=fields.purpose)
    v = await run(request, lambda d: d.verify(
        subject=fields.subject, purpose=fields.purpose, image=body.image,
        liveness=fields.liveness, operator=key.principal))
    return {"subject": v.subject_id, "purpose": v.purpose_key, "matched": v.matched,
            "decided": v.decided, "quality": list(v.quality),
            "distance": v.distance, "threshold": v.threshold, "templates": v.templates,
            "model": model_info(v.pack)}


@router.post("/identify", openapi_extra=image_request_body(IdentifyFields),
             response_model=IdentifyOut)
async def identify(request: Request, key: OperatorKey) -> Obj:
    """Who is this? Every face of the probe, within the purpose's own gallery (R13);
    hits of a purpose under human review come back as pending review cases (R19)."""
    body = await read_image_body(request)
    fields = validate(IdentifyFields, body.fields, form=body.form)
    allow(request, key, ApiAction.BIOMETRIC, purpose=fields.purpose)
    r = await run(request, lambda d: d.identify(
        purpose=fields.purpose, image=body.image, limit=fields.limit, operator=key.principal))
    packs = {c.pack for f in r.faces for c in f.candidates if c.pack}
    return {"purpose": r.purpose_key, "session": r.session_id, "no_match": r.no_match,
            "threshold": r.threshold, "gallery_size": r.gallery_size,
            "faces": [{"face": f.face, "box": jsonable(f.box), "no_match": f.no_match,
                       "candidates": [{"subject": c.subject_id, "distance": c.distance,
                                       "similarity": c.similarity,
                                       "fmr": None if c.fmr is None else c.fmr.as_dict(),
                                       "review_case": c.review_case,
                                       "model": model_info(c.pack)}
                                      for c in f.candidates]} for f in r.faces],
            "models": [model_info(p) for p in sorted(packs)]}


@router.post("/liveness/challenges", status_code=201, response_model=ChallengeOut)
def liveness_challenge(body: ChallengeIn, request: Request,
                       key: OperatorKey) -> Obj:
    """A challenge: two or three actions in a random order, a nonce, a short expiry."""
    allow(request, key, ApiAction.BIOMETRIC, purpose=body.purpose)
    c = request.app.state.service.call(
        lambda d: d.liveness_challenge(purpose=body.purpose, operator=key.principal))
    return {"challenge": c.id, "nonce": c.nonce, "purpose": c.purpose_key,
            "actions": [a.value for a in c.actions], "expires_at": c.expires_at.isoformat()}


_ANSWER_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "properties": {
        "nonce": {"type": "string", "maxLength": 100},
        "video": {"type": "string", "format": "byte",
                  "description": "the answer as one video file (WebM, MP4), base64"},
        "frames": {"type": "array", "maxItems": MAX_FRAMES, "items": {
            "type": "object", "required": ["at", "image"], "additionalProperties": False,
            "properties": {
                "at": {"type": "number", "minimum": 0},
                "image": {"type": "string", "format": "byte"}}}}},
        "additionalProperties": False}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "nonce": {"type": "string", "maxLength": 100},
        "video": {"type": "string", "format": "binary"},
        "at": {"type": "string", "description": "comma-separated seconds, one per frame"},
        "frames": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


async def _answer(request: Request) -> tuple[list[Frame], bytes | None, str | None]:
    """The answer's frames (timestamped images) or video, and the echoed nonce."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    video: bytes | None = None
    frames: list[Frame] = []
    if ctype == "application/json":
        data = await json_object(request)
        unknown = sorted(set(data) - {"nonce", "video", "frames"})
        if unknown:
            raise RequestError("the request does not match the operation's schema",
                               details={"errors": [{"at": k, "problem": "unknown field"}
                                                   for k in unknown]})
        nonce = data.get("nonce")
        if data.get("video") is not None:
            try:
                video = base64.b64decode(str(data["video"]), validate=True)
            except (binascii.Error, ValueError):
                raise RequestError("'video' is not valid base64") from None
        items = data.get("frames", [])
        if not isinstance(items, list):
            raise RequestError("'frames' must be a list")
        if len(items) > MAX_FRAMES:  # refused before the challenge is spent
            raise RequestError(f"an answer has at most {MAX_FRAMES} frames",
                               details={"frames": len(items), "max": MAX_FRAMES})
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict) or set(item) != {"at", "image"}:
                    raise TypeError("a frame is {at, image}")
                at, encoded = item["at"], item["image"]
                if isinstance(at, bool) or not isinstance(at, int | float):
                    raise TypeError("'at' is a number of seconds")
                if not isinstance(encoded, str):
                    raise TypeError("'image' is base64 text")
                image = base64.b64decode(encoded, validate=True)
            except (TypeError, ValueError, binascii.Error):
                raise RequestError(f"frame {i} needs 'at' (seconds) and 'image' (base64), "
                                   "and nothing else", details={"frame": i}) from None
            frames.append(Frame(at=float(at), image=image))
    elif ctype == "multipart/form-data":
        async with request.form(max_files=MAX_FRAMES + 1, max_fields=8) as form:
            nonce = form.get("nonce")
            upload = form.get("video")
            if isinstance(upload, UploadFile):
                video = await upload.read()
            files = [f for f in form.getlist("frames") if isinstance(f, UploadFile)]
            if len(files) > MAX_FRAMES:
                raise RequestError(f"an answer has at most {MAX_FRAMES} frames",
                                   details={"frames": len(files), "max": MAX_FRAMES})
            raw_at = form.get("at")
            try:
                times = [float(t) for t in str(raw_at or "").split(",") if t.strip()]
            except ValueError:
                raise RequestError("'at' must be comma-separated seconds") from None
            if len(times) != len(files):
                raise RequestError("give one time in 'at' per file in 'frames'",
                                   details={"frames": len(files), "times": len(times)})
            frames = [Frame(at=t, image=await f.read())
                      for t, f in zip(times, files, strict=True)]
    else:
        raise MediaTypeUnsupported("send multipart/form-data or application/json")
    if nonce is not None and not isinstance(nonce, str):
        raise RequestError("'nonce' must be a string")
    if (video is None) == (not frames):
        raise RequestError("answer with either 'frames' or one 'video'")
    return frames, video, nonce


@router.post("/liveness/challenges/{challenge}/answer", openapi_extra=_ANSWER_BODY,
             response_model=LivenessOut)
async def liveness_check(challenge: str, request: Request,
                         key: OperatorKey) -> Obj:
    """Answer a challenge with timestamped frames or one video file (WebM, MP4); a pass
    gives a receipt for one enroll or verify of the challenge's purpose. A challenge can be
    answered once."""
    purpose = request.app.state.service.call(lambda d: d.challenge_purpose(challenge))
    allow(request, key, ApiAction.BIOMETRIC, purpose=purpose)
    frames, video, nonce = await _answer(request)
    check = await run(request, lambda d: d.check_liveness(
        challenge=challenge, frames=frames, video=video, nonce=nonce,
        operator=key.principal))
    return {"passed": True, "receipt": check.receipt.id,
            "expires_at": check.receipt.expires_at.isoformat(),
            "result": check.result.as_dict()}
