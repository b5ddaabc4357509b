"""Staff keys from the dashboard (admin): list, issue and revoke, like ``/v1/keys``.

A kiosk needs an operator key scoped to its purpose; the admin issues it here
and signs the kiosk's browser in with it once. A secret is shown once, on the
page that issued it; the store keeps only its hash. Subjects' own tokens are
issued with their consent and never listed here. An admin limited in scope sees,
issues and revokes only keys within its own scope (the API's ``allow``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ..access import ApiAction, ApiKey, Role, Scope
from ..api.common import allow, allowed, in_scope, service_of
from ..errors import Error, Forbidden, InvalidArgument
from . import sessions
from .auth import see_other
from .dashboard import staff, staff_page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

_STAFF_ROLES = ("operator", "reviewer", "auditor", "admin")


def _page(request: Request, key: ApiKey, *, issued: tuple[ApiKey, str] | None = None,
          error: Error | None = None, status: int = 200) -> Response:
    service = service_of(request)
    keys = [k for k in service.call(lambda d: d.api_keys())
            if k.role is not Role.SUBJECT and allowed(key, ApiAction.CONFIGURE,
                                                      other_key=k.scope)]
    shown = in_scope(request, key)
    return staff_page(request, key, "dashboard/keys.html", status=status, keys=keys,
                      purposes=[p for p in service.call(lambda d: d.purposes())
                                if shown(p.key, p.site_key)],
                      roles=_STAFF_ROLES, issued=issued, error=error)


@router.get("/keys")
def keys(request: Request) -> Response:
    _, key = staff(request, ApiAction.CONFIGURE)
    return _page(request, key)


@router.post("/keys")
async def issue(request: Request) -> Response:
    """Issue a staff key (a kiosk's: an operator key scoped to one purpose)."""
    async with request.form(max_fields=64) as data:
        role = str(data.get("role") or "")
        label = str(data.get("label") or "").strip()
        scope = [str(p) for p in data.getlist("purposes") if str(p)]
        csrf = str(data.get("csrf") or "")
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE)
    allow(request, key, ApiAction.CONFIGURE, other_key=Scope(
        purposes=frozenset(scope) if scope else None, sites=None))
    try:
        if role not in _STAFF_ROLES or not label:
            raise InvalidArgument("choose a role and give the key a label")
        made = service_of(request).call(lambda d: d.issue_api_key(
            role=role, label=label[:200], purposes=scope or None, operator=key.principal))
    except Error as exc:
        if isinstance(exc, Forbidden):
            raise
        return _page(request, key, error=exc, status=422)
    return _page(request, key, issued=(made.key, made.secret))


@router.post("/keys/{key_id}/revoke")
def revoke(request: Request, key_id: str,
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Revoke a key at once; its sessions end with it."""
    sessions.check_form(request, csrf)
    _, key = staff(request, ApiAction.CONFIGURE)
    target = service_of(request).call(lambda d: d.api_key(key_id))
    allow(request, key, ApiAction.CONFIGURE, other_key=target.scope)
    service_of(request).call(lambda d: d.revoke_api_key(key_id, operator=key.principal))
    sessions.session_store(request).signed_out(key_id)
    return see_other(request, "/dashboard/keys")
