"""Named staff accounts (admin): add, list, disable, enable.

People sign in to the dashboard with an account (name, password, TOTP code); keys
are for machines. An account's TOTP secret is in the answer that added it only. An
admin limited in scope adds, sees and changes only accounts within its own scope.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from ..access import ApiAction, Scope
from .common import AdminKey, StrictBody, allow, allowed
from .errors import ERROR_RESPONSES
from .models import StaffAdded, StaffPage, StaffResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Obj = dict[str, Any]


class StaffIn(StrictBody):
    #: unique: 1 to 64 lowercase letters, digits, ``.``, ``_``, ``-``
    name: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "operator", "reviewer", "auditor"]
    #: at least 12 characters; kept only as an argon2id hash
    password: str = Field(min_length=12, max_length=1024)
    purposes: list[str] | None = Field(default=None, max_length=200)
    sites: list[str] | None = Field(default=None, max_length=200)


@router.post("/staff", status_code=201, tags=["staff"], response_model=StaffAdded)
def add_staff(body: StaffIn, request: Request, key: AdminKey) -> Obj:
    """Add an account within the caller's own scope; its TOTP secret and ``otpauth://`` URI
    are in this response only."""
    allow(request, key, ApiAction.CONFIGURE, other_key=Scope(
        purposes=None if body.purposes is None else frozenset(body.purposes),
        sites=None if body.sites is None else frozenset(body.sites)))
    made = request.app.state.service.call(lambda d: d.add_staff(
        name=body.name, display_name=body.display_name, role=body.role,
        password=body.password, purposes=body.purposes, sites=body.sites,
        operator=key.principal))
    return {"account": made.account.as_dict(), "totp_secret": made.totp_secret,
            "provisioning_uri": made.provisioning_uri}


@router.get("/staff", tags=["staff"], response_model=StaffPage)
def list_staff(request: Request, key: AdminKey) -> Obj:
    """The accounts within the caller's own scope (never a password hash or TOTP secret)."""
    allow(request, key, ApiAction.CONFIGURE)
    accounts = [a for a in request.app.state.service.call(lambda d: d.staff_accounts())
                if allowed(key, ApiAction.CONFIGURE, other_key=a.scope)]
    return {"accounts": [a.as_dict() for a in accounts]}


def _target(request: Request, key: Any, name: str) -> Any:
    allow(request, key, ApiAction.CONFIGURE)
    target = request.app.state.service.call(lambda d: d.staff_account(name))
    allow(request, key, ApiAction.CONFIGURE, other_key=target.scope)
    return target


@router.get("/staff/{name}", tags=["staff"], response_model=StaffResponse)
def get_staff(name: str, request: Request, key: AdminKey) -> Obj:
    return {"account": _target(request, key, name).as_dict()}


@router.post("/staff/{name}/disable", tags=["staff"], response_model=StaffResponse)
def disable_staff(name: str, request: Request, key: AdminKey) -> Obj:
    """Disable an account at once; its dashboard sessions end."""
    target = _target(request, key, name)
    changed = request.app.state.service.call(
        lambda d: d.disable_staff(target.id, operator=key.principal))
    return {"account": changed.as_dict()}


@router.post("/staff/{name}/enable", tags=["staff"], response_model=StaffResponse)
def enable_staff(name: str, request: Request, key: AdminKey) -> Obj:
    target = _target(request, key, name)
    changed = request.app.state.service.call(
        lambda d: d.enable_staff(target.id, operator=key.principal))
    return {"account": changed.as_dict()}
