"""Roles and scopes of the service's API keys: a pure authorisation table.

Five roles, each a separate duty (the EU AI Act's separation of operating and
verifying, PIPL's access control):

- ``admin``: configuration (processor, sites, purposes, notices, assessments,
  keys), erasure on a subject's request, reports and the audit check;
- ``operator``: biometric operations and the consent desk, within scope;
- ``reviewer``: human review of identification hits (R19), within scope;
- ``auditor``: the audit log, its check, reports and filing status; never a
  biometric operation;
- ``subject``: a person's own token, issued when consent is recorded: see
  their data, withdraw, erase.

A key's scope limits the purposes and sites it may touch (``None``: all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..errors import Forbidden

__all__ = ["ALLOWED", "ApiAction", "ApiKey", "Role", "authorize"]


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    SUBJECT = "subject"


class ApiAction(StrEnum):
    """What a request does, as far as authorisation is concerned."""

    #: change the books: processor, sites, purposes, notices, assessments, keys
    CONFIGURE = "configure"
    #: read the books (purposes, sites, processor)
    READ_BOOKS = "read_books"
    #: register subjects, record or withdraw consent, declines and alternatives
    CONSENT_DESK = "consent_desk"
    #: enroll, verify, identify, liveness
    BIOMETRIC = "biometric"
    #: act on a confirmed review case
    ACT_ON_CASE = "act_on_case"
    #: read and decide review cases
    REVIEW = "review"
    #: the audit log, its verification, filing status, reports
    AUDIT = "audit"
    #: a subject's access report, by staff
    SUBJECT_REPORT = "subject_report"
    #: erase a subject, by staff on the subject's request
    ERASE = "erase"
    #: a subject acting on their own data
    SELF = "self"


#: Which roles may take each action.
ALLOWED: Final[Mapping[ApiAction, frozenset[Role]]] = MappingProxyType({
    ApiAction.CONFIGURE: frozenset({Role.ADMIN}),
    ApiAction.READ_BOOKS: frozenset({Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.AUDITOR}),
    ApiAction.CONSENT_DESK: frozenset({Role.OPERATOR}),
    ApiAction.BIOMETRIC: frozenset({Role.OPERATOR}),
    ApiAction.ACT_ON_CASE: frozenset({Role.OPERATOR}),
    ApiAction.REVIEW: frozenset({Role.REVIEWER}),
    ApiAction.AUDIT: frozenset({Role.AUDITOR, Role.ADMIN}),
    ApiAction.SUBJECT_REPORT: frozenset({Role.AUDITOR, Role.ADMIN}),
    ApiAction.ERASE: frozenset({Role.ADMIN}),
    ApiAction.SELF: frozenset({Role.SUBJECT}),
})


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    role: Role
    label: str
    purposes: frozenset[str] | None
    sites: frozenset[str] | None
    subject_id: str | None
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def principal(self) -> str:
        """How the key appears as the operator of audited operations."""
        return f"key:{self.id}"

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "role": self.role.value, "label": self.label,
                "purposes": sorted(self.purposes) if self.purposes is not None else None,
                "sites": sorted(self.sites) if self.sites is not None else None,
                "subject": self.subject_id, "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def authorize(key: ApiKey, action: ApiAction, *, purpose: str | None = None,
              site: str | None = None, subject: str | None = None) -> None:
    """Allow or raise :class:`Forbidden`.

    Args:
        purpose, site: what the request touches; checked against the key's scope.
        subject: for :attr:`ApiAction.SELF`, the subject the request is about.
    """
    details: dict[str, object] = {"role": key.role.value, "action": action.value}
    if key.role not in ALLOWED[action]:
        raise Forbidden(f"a {key.role.value} key may not {action.value.replace('_', ' ')}",
                        details=details)
    if purpose is not None and key.purposes is not None and purpose not in key.purposes:
        raise Forbidden(f"purpose {purpose!r} is outside this key's scope",
                        details={**details, "purpose": purpose})
    if site is not None and key.sites is not None and site not in key.sites:
        raise Forbidden(f"site {site!r} is outside this key's scope",
                        details={**details, "site": site})
    if key.role is Role.SUBJECT and subject is not None and subject != key.subject_id:
        raise Forbidden("a subject's token reaches only that subject's own data",
                        details=details)
