"""One error shape for every failure, produced by one set of handlers.

Every error response is ``{"error": {"code", "message", "rule", "request_id",
"details"}}`` with the HTTP status of the facegate error class. Framework
errors are mapped onto facegate codes (``request.invalid``,
``request.not_found``, ``request.method_not_allowed``); anything unexpected is
logged with its request id and answered as a bare ``error`` with status 500,
without a stack trace.

The ``message`` is in the language the request's ``Accept-Language`` prefers of
those facegate speaks (zh, en; q-values honoured, English otherwise), named by the
response's ``Content-Language``; the code, rule and details are the same in every
language (:mod:`facegate.locale.errors`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    Error,
    MethodNotAllowed,
    PolicyRefusal,
    RateLimited,
    RequestError,
    RequestTooLarge,
    RouteNotFound,
)
from ..locale import negotiate
from ..locale.errors import error_message
from .middleware import BodyTooLarge

__all__ = ["ERROR_RESPONSES", "ErrorBody", "error_response", "install_error_handlers"]

log = logging.getLogger("facegate.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    rule: str | None = None
    request_id: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    error: ErrorDetail


#: Documented on every operation, so clients (and schemathesis) know the shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (400, "Bad argument"), (401, "No or invalid API key"),
        (403, "Role, scope or a rule refused"), (404, "Not found"), (405, "Method not allowed"),
        (409, "Conflict"), (410, "Gone (expired challenge)"), (413, "Too large"),
        (415, "Unsupported image format"), (422, "Invalid request or input"),
        (429, "Rate limited"), (500, "Internal error"), (503, "Not ready"))
}


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "-")


def error_response(request: Request, exc: Error) -> Response:
    """The error's JSON body with its status, or, on a web page's path, the web's HTML
    page for it (``app.state.error_page``, installed by :mod:`facegate.web`)."""
    page = getattr(request.app.state, "error_page", None)
    if page is not None:
        html: Response | None = page(request, exc)
        if html is not None:
            return html
    rule = exc.rule if isinstance(exc, PolicyRefusal) else exc.details.get("rule")
    lang = negotiate(request.headers.get("accept-language"))
    body = {"error": {"code": exc.code, "message": error_message(exc, lang),
                      "rule": rule if isinstance(rule, str) else None,
                      "request_id": _request_id(request),
                      "details": _safe(exc.details)}}
    headers = _language_headers(lang)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.details.get("retry_after", 60))
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _language_headers(lang: str) -> dict[str, str]:
    return {"Content-Language": lang, "Vary": "Accept-Language"}


def _safe(details: dict[str, Any]) -> dict[str, Any]:
    """Details as JSON values (numbers, strings, lists, objects)."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [clean(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return str(value)
    cleaned: dict[str, Any] = clean(details)
    return cleaned


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Error)
    async def facegate_error(request: Request, exc: Error) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"at": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                  for e in exc.errors()]
        return error_response(request, RequestError(
            "the request does not match the operation's schema", details={"errors": errors}))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error: Error
        if exc.status_code == 404:
            error = RouteNotFound(f"no endpoint {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        elif exc.status_code == 413:
            error = RequestTooLarge("the request body is too large")
        elif exc.status_code in (400, 422):
            # A body the framework could not parse (malformed JSON or multipart, JSON nested
            # too deep): request.invalid, 422, like every other malformed request.
            error = RequestError("the request body cannot be read: it is not well-formed "
                                 "JSON or multipart", details={"errors": [
                                     {"at": "body", "problem": str(exc.detail)}]})
        else:
            error = RequestError(str(exc.detail))
            lang = negotiate(request.headers.get("accept-language"))
            return JSONResponse({"error": {"code": error.code,
                                           "message": error_message(error, lang),
                                           "rule": None, "request_id": _request_id(request),
                                           "details": {}}}, status_code=exc.status_code,
                                headers=_language_headers(lang))
        return error_response(request, error)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error_response(request, RequestTooLarge(
            f"the request body exceeds {exc.limit} bytes", details={"limit": exc.limit}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", extra={"request_id": _request_id(request)},
                  exc_info=(type(exc), exc, exc.__traceback__))
        page = getattr(request.app.state, "error_page", None)
        html: Response | None = page(request, Error("internal error; the request id is in "
                                                     "the service's log")) if page else None
        if html is not None:  # a web page's path: the web's HTML error page
            return html
        lang = negotiate(request.headers.get("accept-language"))
        internal = Error("internal error")
        return JSONResponse({"error": {"code": "error", "message": error_message(internal, lang),
                                       "rule": None, "request_id": _request_id(request),
                                       "details": {}}}, status_code=500,
                            headers=_language_headers(lang))
