"""What every route uses: the caller's key, authorisation with audited refusals,
image bodies (multipart or base64 JSON), and turning results into JSON."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..access import ApiAction, ApiKey, Scope, authorize
from ..engine.packs import get_pack
from ..errors import (
    AccessError,
    CredentialInvalid,
    Forbidden,
    MediaTypeUnsupported,
    RequestError,
    Unauthenticated,
)
from .service import RateLimiter, Service

__all__ = [
    "ActorKey",
    "AdminKey",
    "AuditorKey",
    "Caller",
    "DeskKey",
    "EraseKey",
    "ImageBody",
    "IsoDate",
    "OperatorKey",
    "ReportKey",
    "ReviewerKey",
    "SelfKey",
    "StaffKey",
    "StrictBody",
    "allow",
    "allowed",
    "caller",
    "image_request_body",
    "in_scope",
    "json_object",
    "jsonable",
    "model_info",
    "purposes_in_scope",
    "read_image_body",
    "request_hash",
    "requires",
    "run",
    "service_of",
    "sites_in_scope",
    "validate",
]

class StrictBody(BaseModel):
    """A request body: unknown fields are refused and nothing is coerced (``true`` is
    not the number 1, ``0`` is not a date, ``"adult"`` under a misspelt name is not
    silently dropped)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_date(value: object) -> object:
    if isinstance(value, str | date):
        return value
    raise ValueError("a date is written as text, YYYY-MM-DD")


#: A date in a strict body: ISO text (``YYYY-MM-DD``), never a number.
IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_date)]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="An API key (admin, operator, reviewer, auditor) or a "
                                   "subject's own token.")


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refuse(request: Request, error: AccessError, *, operator: str, action: str,
            purpose: str | None = None, subject: str | None = None) -> AccessError:
    service_of(request).call(lambda d: d.record_access_refusal(
        error, operator=operator, action=action, purpose=purpose, subject=subject))
    return error


def caller(request: Request, secret: str | None = Security(API_KEY)) -> ApiKey:
    """The key the request carries (``X-API-Key`` or ``Authorization: Bearer``), rate-limited.

    Every refusal (no key, unknown or revoked key, over the rate) is audited.
    """
    if not secret:
        auth = request.headers.get("authorization", "")
        secret = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    action = f"{request.method} {request.url.path}"
    anonymous: RateLimiter = request.app.state.anonymous_limiter
    if not secret:
        anonymous.take(_client(request))
        raise _refuse(request, Unauthenticated("an API key is required (X-API-Key header)"),
                      operator=f"client:{_client(request)}", action=action)
    service = service_of(request)
    try:
        key = service.call(lambda d: d.authenticate(secret))
    except CredentialInvalid as exc:
        anonymous.take(_client(request))
        raise _refuse(request, exc, operator=f"client:{_client(request)}",
                      action=action) from None
    request.state.key_id = key.id
    limiter: RateLimiter = request.app.state.limiter
    try:
        limiter.take(key.id)
    except AccessError as exc:
        raise _refuse(request, exc, operator=key.principal, action=action) from None
    return key


def allow(request: Request, key: ApiKey, action: ApiAction, *, purpose: str | None = None,
          site: str | None = None, subject: str | None = None, whole: bool = False,
          other_key: Scope | None = None) -> None:
    """Check the key's role and scope for ``action``; a refusal is audited and raised as
    :class:`Forbidden` (403). The one authorisation layer of the API and the web: it
    gathers the facts :func:`facegate.access.roles.authorize` decides on.

    Args:
        purpose: the purpose the request touches (its site is looked up for a key
            limited to sites, unless ``site`` is given, as for a purpose being registered).
        site: a site the request touches.
        subject: the subject the request is about: a subject's own token must be that
            subject's; a staff key limited in scope must cover every purpose the subject
            holds anything for.
        whole: the request reaches the whole deployment.
        other_key: the scope of a key being issued or revoked.
    """
    try:
        scope = key.scope
        if purpose is not None and site is None and scope.sites is not None:
            site = service_of(request).call(lambda d: d.purpose(purpose).site_key)
        holdings = None
        if subject is not None and action is not ApiAction.SELF and not scope.unlimited:
            holdings = service_of(request).call(lambda d: d.subject_holdings(subject))
        authorize(key, action, purpose=purpose, site=site, subject=subject, holdings=holdings,
                  whole=whole, other_key=other_key)
    except Forbidden as exc:
        raise _refuse(request, exc, operator=key.principal, action=action.value,
                      purpose=purpose, subject=subject) from None


def allowed(key: ApiKey, action: ApiAction, *, whole: bool = False,
            other_key: Scope | None = None,
            holdings: Iterable[tuple[str, str]] | None = None,
            purpose: str | None = None, site: str | None = None) -> bool:
    """Whether :func:`allow` would let ``key`` take ``action`` on the whole deployment, on
    another key, on a subject with these holdings, or on ``purpose`` at ``site`` (give
    both for a key limited to sites): for what a page or list shows (nothing is refused,
    so nothing is audited)."""
    try:
        authorize(key, action, whole=whole, other_key=other_key, holdings=holdings,
                  purpose=purpose, site=site)
    except Forbidden:
        return False
    return True


def in_scope(request: Request, key: ApiKey) -> Callable[[str | None, str | None], bool]:
    """What a list shows the key: ``shown(purpose, site)`` is true for what lies in its
    scope (a purpose's site is looked up when not given). An item of no purpose, such
    as a deployment-wide audit entry, is shown to unscoped keys only."""
    scope = key.scope
    if scope.unlimited:
        return lambda purpose, site: True
    sites = service_of(request).call(lambda d: d.purpose_sites())

    def shown(purpose: str | None, site: str | None = None) -> bool:
        if purpose is None:
            return False
        return scope.covers(purpose=purpose, site=site or sites.get(purpose, ""))
    return shown


def sites_in_scope(request: Request, key: ApiKey, sites: Iterable[T],
                   site_key: Callable[[T], str]) -> list[T]:
    """The sites a list shows the key: those of the purposes it may see, and for a key
    limited to sites only, those sites."""
    items = list(sites)
    if key.scope.unlimited:
        return items
    shown = in_scope(request, key)
    reached = {site for purpose, site in service_of(request).call(
        lambda d: d.purpose_sites()).items() if shown(purpose, site)}
    return [s for s in items if site_key(s) in reached
            or (key.purposes is None and key.scope.covers(site=site_key(s)))]


def purposes_in_scope(request: Request, key: ApiKey) -> list[str] | None:
    """The purposes a key limited in scope may see (``None``: unscoped, every one)."""
    if key.scope.unlimited:
        return None
    shown = in_scope(request, key)
    return sorted(p for p, site in service_of(request).call(
        lambda d: d.purpose_sites()).items() if shown(p, site))


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, times and sets as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return float(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def model_info(pack: str | None) -> dict[str, str] | None:
    """``{"pack", "version"}`` of a model pack, named in every biometric response."""
    if not pack:
        return None
    return {"pack": pack, "version": get_pack(pack).version}


class ImageBody:
    """An image operation's body: its fields, the image bytes, and whether the fields came
    as form text (multipart) or as JSON values."""

    def __init__(self, fields: dict[str, Any], image: bytes, digest: str, *,
                 form: bool = False) -> None:
        self.fields = fields
        self.image = image
        self.digest = digest
        self.form = form


def request_hash(fields: dict[str, Any], image: bytes) -> str:
    """What makes two requests the same request, for idempotency."""
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode() + b"\0" + hashlib.sha256(image).digest()).hexdigest()


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or :class:`RequestError`."""
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise RequestError("the body is not valid JSON (or is nested too deeply)") from None
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    return body


async def read_image_body(request: Request) -> ImageBody:
    """Fields and image from ``multipart/form-data`` (an ``image`` file part) or
    ``application/json`` (``image`` as base64).

    Raises:
        RequestError: a malformed body; MediaTypeUnsupported: another content type.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        async with request.form(max_files=1, max_fields=32) as form:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise RequestError("a multipart request needs an 'image' file part",
                                   details={"errors": [{"at": "image", "problem": "missing"}]})
            image = await upload.read()
            fields: dict[str, Any] = {k: v for k, v in form.multi_items()
                                      if k != "image" and isinstance(v, str)}
    elif ctype == "application/json":
        body = await json_object(request)
        encoded = body.pop("image", None)
        if not isinstance(encoded, str):
            raise RequestError("'image' must be a base64 string",
                               details={"errors": [{"at": "image", "problem": "missing"}]})
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("'image' is not valid base64") from None
        fields = body
    else:
        raise MediaTypeUnsupported("send multipart/form-data or application/json",
                                   details={"content_type": ctype})
    return ImageBody(fields, image, request_hash(fields, image),
                     form=ctype == "multipart/form-data")


def validate(model: type[M], fields: dict[str, Any], *, form: bool = False) -> M:
    """``fields`` as ``model``, or :class:`RequestError` listing each problem. JSON values
    are taken strictly; form fields (multipart) are text, read as the JSON they spell
    (``true``, ``5``), still without unknown fields."""
    try:
        if form:
            return model.model_validate_strings(fields)
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = [{"at": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                  for e in exc.errors()]
        raise RequestError("the request does not match the operation's schema",
                           details={"errors": errors}) from None


async def run(request: Request, fn: Any) -> Any:
    """Run ``fn(deployment)`` in a worker thread, alone."""
    service = service_of(request)
    return await run_in_threadpool(service.call, fn)


def image_request_body(fields_model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an image operation: JSON with base64, or multipart."""
    schema = fields_model.model_json_schema()
    props = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    as_json = {"type": "object", "properties": {**props, "image": {
        "type": "string", "format": "byte", "description": "the image, base64"}},
        "required": [*required, "image"], "additionalProperties": False}
    as_form = {"type": "object", "properties": {**props, "image": {
        "type": "string", "format": "binary", "description": "the image file"}},
        "required": [*required, "image"], "additionalProperties": False}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": as_json},
        "multipart/form-data": {"schema": as_form}}}}


#: The caller's key, as a route parameter.
Caller = Annotated[ApiKey, Depends(caller)]


def requires(action: ApiAction) -> Any:
    """A dependency: the caller's key, refused (403, audited) unless its role may take
    ``action``. It runs before the body is read, so a caller without the role learns
    nothing about the operation's schema. Scope is checked in the route with :func:`allow`."""
    def dependency(request: Request, key: Caller) -> ApiKey:
        allow(request, key, action)
        return key
    return Depends(dependency)


AdminKey = Annotated[ApiKey, requires(ApiAction.CONFIGURE)]
StaffKey = Annotated[ApiKey, requires(ApiAction.READ_BOOKS)]
DeskKey = Annotated[ApiKey, requires(ApiAction.CONSENT_DESK)]
WithdrawKey = Annotated[ApiKey, requires(ApiAction.WITHDRAW)]
OperatorKey = Annotated[ApiKey, requires(ApiAction.BIOMETRIC)]
ActorKey = Annotated[ApiKey, requires(ApiAction.ACT_ON_CASE)]
ReviewerKey = Annotated[ApiKey, requires(ApiAction.REVIEW)]
AuditorKey = Annotated[ApiKey, requires(ApiAction.AUDIT)]
ReportKey = Annotated[ApiKey, requires(ApiAction.SUBJECT_REPORT)]
EraseKey = Annotated[ApiKey, requires(ApiAction.ERASE)]
SelfKey = Annotated[ApiKey, requires(ApiAction.SELF)]
