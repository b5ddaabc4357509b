"""Signing in and out, and the signed-in key of a web request.

The browser sends an API key once; the session remembers the key's id. Each
request looks the key up again (a revoked key signs its sessions out) and
spends the key's rate allowance, like an API request. Roles and scopes are
checked with the API's own :func:`facegate.api.common.allow`, which audits
refusals.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..access import ApiAction, ApiKey, Role
from ..api.common import allow, service_of
from ..api.service import RateLimiter
from ..errors import CredentialInvalid, Error, Forbidden, StorageError, Unauthenticated
from ..locale import N_
from . import sessions
from .pages import render
from .visits import end_visit

__all__ = ["ROLE_HOME", "error_page", "router", "see_other", "signed_in"]

router = APIRouter(include_in_schema=False)

#: Where each role lands after signing in.
ROLE_HOME: Final = {Role.ADMIN: "/dashboard", Role.AUDITOR: "/dashboard",
                    Role.REVIEWER: "/dashboard/review", Role.OPERATOR: "/dashboard"}

_WEB_PREFIXES: Final = ("/kiosk", "/dashboard", "/login", "/logout")


def see_other(request: Request, url: str) -> RedirectResponse:
    """A 303 to ``url`` (after a POST), carrying a new session's cookie."""
    response = RedirectResponse(url, status_code=303)
    sessions.set_cookie(request, response)
    return response


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def signed_in(request: Request, action: ApiAction | None = None, *,
              purpose: str | None = None, site: str | None = None,
              subject: str | None = None,
              whole: bool = False) -> tuple[sessions.Session, ApiKey]:
    """The session and its live key, allowed ``action`` (on ``purpose``, ``site``,
    ``subject`` or the whole deployment: the API's :func:`allow`) when given.

    Raises:
        Unauthenticated: nobody is signed in (pages answer with the sign-in page).
        Forbidden: the key's role or scope does not allow ``action`` (audited).
    """
    session = sessions.current(request)
    if session is None or session.key_id is None:
        raise Unauthenticated("please sign in")
    key = next((k for k in service_of(request).call(lambda d: d.api_keys())
                if k.id == session.key_id), None)
    if key is None or key.revoked_at is not None:
        sessions.session_store(request).signed_out(session.key_id)
        raise Unauthenticated("this key was revoked; please sign in again")
    request.state.key_id = key.id
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(key.id)
    if action is not None:
        allow(request, key, action, purpose=purpose, site=site, subject=subject, whole=whole)
    return session, key


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    sessions.ensure(request)
    return render(request, "login.html", next=_safe_next(next) or "", error=None)


@router.post("/login")
def login(request: Request, key: Annotated[str, Form(max_length=200)],
          csrf: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Turn an API key into a session (a fresh session id and CSRF token)."""
    old = sessions.current(request)
    sessions.check_csrf(request, old, csrf)
    service = service_of(request)
    client = f"client:{request.client.host if request.client else 'unknown'}"
    try:
        api_key = service.call(lambda d: d.authenticate(key.strip()))
    except CredentialInvalid as exc:
        request.app.state.anonymous_limiter.take(client)
        refusal = exc
        service.call(lambda d: d.record_access_refusal(refusal, operator=client,
                                                       action="POST /login"))
        return render(request, "login.html", status=401, next=_safe_next(next) or "",
                      error="That key is not valid or has been revoked.")
    if api_key.role is Role.SUBJECT:
        return render(request, "login.html", status=403, next="",
                      error="A personal token cannot sign in here. To withdraw consent, use "
                            "the kiosk's \u201cWithdraw consent\u201d page.")
    session = sessions.replace(request, old)
    session.key_id = api_key.id
    target = _safe_next(next) or ROLE_HOME.get(api_key.role, "/dashboard")
    return see_other(request, target)


@router.get("/logout")
def logout_page(request: Request) -> Response:
    """A page with the sign-out button (signing out is a POST with the CSRF token)."""
    sessions.ensure(request)
    return render(request, "logout.html")


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    session = sessions.check_form(request, csrf)
    end_visit(request, session)
    sessions.session_store(request).drop(session.id)
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_cookie(response)
    return response


def error_page(request: Request, exc: Error) -> Response | None:
    """An HTML page for a failure on a web path (``None`` for the API's paths)."""
    path = request.url.path
    if not path.startswith(_WEB_PREFIXES):
        return None
    if isinstance(exc, Unauthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
    kiosk = path.startswith("/kiosk")
    title = (N_("Not allowed") if isinstance(exc, Forbidden) else
             N_("Please sign in") if isinstance(exc, Unauthenticated) else
             N_("Something went wrong"))
    return render(request, "error.html", status=exc.http_status, title=title,
                  error=exc, code=exc.code,
                  rule=getattr(exc, "rule", None) or exc.details.get("rule"), kiosk=kiosk,
                  session=not isinstance(exc, StorageError) and exc.code != "error")
