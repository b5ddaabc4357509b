"""Signing in and out, and the signed-in account (or device key) of a web request.

Staff sign in with a named account: name, password and a TOTP code
(:meth:`Deployment.sign_in_staff`: argon2, a code never accepted twice, failures
locked out and audited). A kiosk's browser is a device and signs in once with an
operator key for its purpose; no other key signs in here (keys are for machines).
The session remembers the account's (or key's) id. Each request looks it up again
(a disabled account or a revoked key signs its sessions out) and spends its rate
allowance, like an API request. An account carries the same role and scope as a key
(:class:`~facegate.access.StaffAccount`), so roles and scopes are checked with the
API's own :func:`facegate.api.common.allow`, which audits refusals, and audit entries
and reviews name the person (``staff:<name>``).
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..access import ApiAction, ApiKey, Role
from ..api.common import allow, service_of
from ..api.service import RateLimiter
from ..errors import (
    CredentialInvalid,
    Error,
    Forbidden,
    NotFound,
    RateLimited,
    StorageError,
    Unauthenticated,
)
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
    key = _holder(request, session.key_id)
    if key is None or key.revoked_at is not None:
        sessions.session_store(request).signed_out(session.key_id)
        raise Unauthenticated("this account was disabled or this key revoked; please sign "
                              "in again")
    request.state.key_id = key.id
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(key.id)
    if action is not None:
        allow(request, key, action, purpose=purpose, site=site, subject=subject, whole=whole)
    return session, key


def _holder(request: Request, held: str) -> ApiKey | None:
    """The account (``s_...``) or key a session is signed in with, or ``None``."""
    service = service_of(request)
    if held.startswith("s_"):
        try:
            return service.call(lambda d: d.staff_account(held))
        except NotFound:
            return None
    return next((k for k in service.call(lambda d: d.api_keys()) if k.id == held), None)


def _login_page(request: Request, next: str, *, status: int = 200,
                error: str | None = None, device_error: str | None = None) -> Response:
    return render(request, "login.html", status=status, next=next, error=error,
                  device_error=device_error)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    sessions.ensure(request)
    return _login_page(request, _safe_next(next) or "")


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          code: Annotated[str, Form(max_length=16)] = "",
          key: Annotated[str, Form(max_length=200)] = "",
          csrf: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Turn a named account (name, password, TOTP code), or a kiosk device's operator key,
    into a session (a fresh session id and CSRF token)."""
    old = sessions.current(request)
    sessions.check_csrf(request, old, csrf)
    if key.strip():
        return _device_login(request, old, key.strip(), next)
    service = service_of(request)
    host = request.client.host if request.client else "unknown"
    request.app.state.anonymous_limiter.take(f"client:{host}")
    try:
        account = service.call(lambda d: d.sign_in_staff(
            name=name.strip().lower(), password=password, code=code, client=host))
    except (CredentialInvalid, RateLimited) as exc:
        message = (N_("Too many failed sign-ins: this account is locked for a while.")
                   if isinstance(exc, RateLimited) else
                   N_("The name, password or code is not valid."))
        return _login_page(request, _safe_next(next) or "", status=exc.http_status,
                           error=message)
    session = sessions.replace(request, old)
    session.key_id = account.id
    target = _safe_next(next) or ROLE_HOME.get(account.role, "/dashboard")
    return see_other(request, target)


def _device_login(request: Request, old: sessions.Session | None, secret: str,
                  next: str) -> Response:
    """A kiosk's browser signs in once with an operator key (keys are for machines)."""
    service = service_of(request)
    client = f"client:{request.client.host if request.client else 'unknown'}"
    try:
        api_key = service.call(lambda d: d.authenticate(secret))
    except CredentialInvalid as exc:
        request.app.state.anonymous_limiter.take(client)
        refusal = exc
        service.call(lambda d: d.record_access_refusal(refusal, operator=client,
                                                       action="POST /login"))
        return _login_page(request, _safe_next(next) or "", status=401,
                           device_error=N_("That key is not valid or has been revoked."))
    if api_key.role is Role.SUBJECT:
        return _login_page(request, "", status=403,
                           device_error=N_("A personal token cannot sign in here. To "
                                           "withdraw consent, use the kiosk's \u201cWithdraw "
                                           "consent\u201d page."))
    if api_key.role is not Role.OPERATOR:
        refused = Forbidden("staff sign in with a named account; only a kiosk's operator key "
                            "signs a device in", details={"role": api_key.role.value})
        service.call(lambda d: d.record_access_refusal(refused, operator=api_key.principal,
                                                       action="POST /login"))
        return _login_page(request, _safe_next(next) or "", status=403,
                           device_error=N_("Staff sign in with their named account above. "
                                           "A key signs in only a kiosk (an operator key)."))
    session = sessions.replace(request, old)
    session.key_id = api_key.id
    return see_other(request, _safe_next(next) or "/kiosk")


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
