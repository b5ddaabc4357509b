"""Staff accounts from the dashboard (admin): list, add, disable, enable, and authorise a
reviewer account for a purpose, like ``/v1/staff``.

An account's TOTP secret and ``otpauth://`` URI are shown once, on the page that
made it; the store keeps the secret only sealed. An admin limited in scope sees and
manages only accounts within its own scope (the API's ``allow``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..access import ApiAction, ApiKey, Scope
from ..access.accounts import NewAccount
from ..access.roles import STAFF_ROLES
from ..api.common import allow, allowed, in_scope, service_of
from ..errors import Error, Forbidden
from ..locale import N_
from . import sessions
from .auth import see_other
from .dashboard import staff, staff_page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _page(request: Request, key: ApiKey, *, made: NewAccount | None = None,
          error: Error | None = None, message: str | None = None,
          values: dict[str, str] | None = None, status: int = 200) -> Response:
    """The staff page; ``message`` is a word of the catalog (``N_``) with ``values`` for its
    placeholders."""
    service = service_of(request)
    accounts = [a for a in service.call(lambda d: d.staff_accounts())
                if allowed(key, ApiAction.CONFIGURE, other_key=a.scope)]
    shown = in_scope(request, key)
    return staff_page(request, key, "dashboard/staff.html", status=status, accounts=accounts,
                      purposes=[p for p in service.call(lambda d: d.purposes())
                                if shown(p.key, p.site_key)],
                      roles=[r.value for r in STAFF_ROLES], made=made, error=error,
                      message=message, message_values=values or {})


@router.get("/staff")
def accounts(request: Request) -> Response:
    _, key = staff(request, ApiAction.CONFIGURE)
    return _page(request, key)


@router.post("/staff")
async def add(request: Request) -> Response:
    """Add an account; its TOTP secret is shown on the answer, once."""
    async with request.form(max_fields=64) as data:
        form = {k: str(v) for k, v in data.multi_items() if isinstance(v, str)}
        scope = [str(p) for p in data.getlist("purposes") if str(p)]
    sessions.check_form(request, form.get("csrf", ""))
    _, key = staff(request, ApiAction.CONFIGURE)
    allow(request, key, ApiAction.CONFIGURE, other_key=Scope(
        purposes=frozenset(scope) if scope else None, sites=None))
    try:
        made = service_of(request).call(lambda d: d.add_staff(
            name=form.get("name", "").strip(), display_name=form.get("display_name", ""),
            role=form.get("role", ""), password=form.get("password", ""),
            purposes=scope or None, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _page(request, key, error=exc, status=422)
    return _page(request, key, made=made)


def _target(request: Request, key: ApiKey, name: str) -> ApiKey:
    target = service_of(request).call(lambda d: d.staff_account(name))
    allow(request, key, ApiAction.CONFIGURE, other_key=target.scope)
    return target


@router.post("/staff/{name}/disable")
def disable(request: Request, name: str,
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Disable an account at once; its sessions end with it."""
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE)
    target = _target(request, key, name)
    if target.id == key.id:
        return _page(request, key, status=422, message=N_("You cannot disable your own account."))
    service_of(request).call(lambda d: d.disable_staff(target.id, operator=key.principal))
    sessions.session_store(request).signed_out(target.id)
    return see_other(request, "/dashboard/staff")


@router.post("/staff/{name}/enable")
def enable(request: Request, name: str,
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE)
    target = _target(request, key, name)
    service_of(request).call(lambda d: d.enable_staff(target.id, operator=key.principal))
    return see_other(request, "/dashboard/staff")


@router.post("/staff/{name}/reviewer")
def authorise(request: Request, name: str, purpose: Annotated[str, Form(max_length=200)],
              csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Authorise a reviewer account to decide the review cases of ``purpose`` (R19)."""
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE, purpose)
    target = _target(request, key, name)
    try:
        service_of(request).call(lambda d: d.authorise_reviewer_account(
            purpose=purpose, account=target.id, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _page(request, key, error=exc, status=422)
    return _page(request, key, message=N_("%(who)s may review %(purpose)s."),
                 values={"who": target.principal, "purpose": purpose})
