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

A key's scope limits the purposes and sites it may touch (``None``: all). What
a scope means for each kind of request is :class:`Reach`, and docs/api.md's scope
table says which each endpoint and page has:

- a purpose (and its site) must lie in scope;
- a subject must hold data only for purposes in scope (consents, templates,
  review cases, audit entries);
- a list shows only what lies in scope;
- a key issued, listed or revoked must lie within the caller's own scope
  (roles: any staff role; so only an unscoped admin manages unscoped keys);
- the whole deployment (processor, sites, the chain check, the filing counter,
  the deployment-wide documents) needs an unscoped key.

:func:`authorize` decides all of it from plain facts; ``facegate.api.common.allow``
gathers the facts and audits refusals, for the API and the web alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..errors import Forbidden

__all__ = ["ACTION_WORDS", "ALLOWED", "STAFF_ROLES", "ApiAction", "ApiKey", "Reach", "Role",
           "Scope", "StaffAccount", "authorize"]


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
    #: register subjects, record consent, declines and alternatives
    CONSENT_DESK = "consent_desk"
    #: withdraw a subject's consent for them: at the desk, or on their request
    WITHDRAW = "withdraw"
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


#: what each action does, as the refusal says it ("an auditor key may not ...")
ACTION_WORDS: dict[ApiAction, str] = {
    ApiAction.CONFIGURE: "change the deployment's configuration",
    ApiAction.READ_BOOKS: "read the purposes, sites and processor",
    ApiAction.CONSENT_DESK: "register subjects or record their consent",
    ApiAction.WITHDRAW: "withdraw a subject's consent",
    ApiAction.BIOMETRIC: "enroll, verify or identify faces",
    ApiAction.ACT_ON_CASE: "act on a confirmed review case",
    ApiAction.REVIEW: "read or decide review cases",
    ApiAction.AUDIT: "read the audit log, filing status or reports",
    ApiAction.SUBJECT_REPORT: "read a subject's access report",
    ApiAction.ERASE: "erase a subject",
    ApiAction.SELF: "act on a subject's own data",
}


class Reach(StrEnum):
    """What a request reaches, for the scope check (the scope table in docs/api.md)."""

    #: public, or a subject's own data through their token
    NONE = "none"
    #: not limited by scope (reading the processor, registering a pseudonymous subject)
    ANY = "any"
    #: one purpose, and its site
    PURPOSE = "purpose"
    #: one subject: every purpose it holds anything for
    SUBJECT = "subject"
    #: a list: only what lies in scope is shown
    LISTED = "listed"
    #: a key issued, listed or revoked: within the caller's own scope
    KEY = "key"
    #: the whole deployment: unscoped keys only
    DEPLOYMENT = "deployment"


@dataclass(frozen=True, slots=True)
class Scope:
    """The purposes and sites a key may touch; ``None`` is every one."""

    purposes: frozenset[str] | None = None
    sites: frozenset[str] | None = None

    @property
    def unlimited(self) -> bool:
        return self.purposes is None and self.sites is None

    def covers(self, *, purpose: str | None = None, site: str | None = None) -> bool:
        """Whether ``purpose`` and ``site`` (those given) lie in this scope."""
        return ((purpose is None or self.purposes is None or purpose in self.purposes)
                and (site is None or self.sites is None or site in self.sites))

    def contains(self, other: Scope) -> bool:
        """Whether everything ``other`` reaches lies in this scope: each limited dimension
        of this scope limits ``other`` at least as much."""
        return all(mine is None or (theirs is not None and theirs <= mine)
                   for mine, theirs in ((self.purposes, other.purposes),
                                        (self.sites, other.sites)))


#: Which roles may take each action.
ALLOWED: Final[Mapping[ApiAction, frozenset[Role]]] = MappingProxyType({
    ApiAction.CONFIGURE: frozenset({Role.ADMIN}),
    ApiAction.READ_BOOKS: frozenset({Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.AUDITOR}),
    ApiAction.CONSENT_DESK: frozenset({Role.OPERATOR}),
    ApiAction.WITHDRAW: frozenset({Role.OPERATOR, Role.ADMIN}),
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
    def scope(self) -> Scope:
        return Scope(purposes=self.purposes, sites=self.sites)

    @property
    def principal(self) -> str:
        """How the key appears as the operator of audited operations."""
        return f"key:{self.id}"

    @property
    def noun(self) -> str:
        """What the credential is called in a refusal."""
        return "key"

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "role": self.role.value, "label": self.label,
                "purposes": sorted(self.purposes) if self.purposes is not None else None,
                "sites": sorted(self.sites) if self.sites is not None else None,
                "subject": self.subject_id, "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


#: The roles a named staff account may hold (a subject's token is never an account).
STAFF_ROLES: Final = (Role.ADMIN, Role.AUDITOR, Role.REVIEWER, Role.OPERATOR)


@dataclass(frozen=True, slots=True)
class StaffAccount(ApiKey):
    """A named person's account: the same role and scope as a key, so every check that
    takes a key takes an account. ``label`` is the display name, ``revoked_at`` when the
    account was disabled (``None``: enabled); audit entries and reviews name it
    ``staff:<name>``."""

    name: str = ""
    created_by: str = "system"

    @property
    def principal(self) -> str:
        return f"staff:{self.name}"

    @property
    def noun(self) -> str:
        return "account"

    @property
    def display_name(self) -> str:
        return self.label

    @property
    def disabled(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "display_name": self.label,
                "role": self.role.value, "principal": self.principal,
                "purposes": sorted(self.purposes) if self.purposes is not None else None,
                "sites": sorted(self.sites) if self.sites is not None else None,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "disabled_at": self.revoked_at.isoformat() if self.revoked_at else None}


def authorize(key: ApiKey, action: ApiAction, *, purpose: str | None = None,
              site: str | None = None, subject: str | None = None,
              holdings: Iterable[tuple[str, str]] | None = None, whole: bool = False,
              other_key: Scope | None = None) -> None:
    """Allow or raise :class:`Forbidden`: the role, then the scope (see :class:`Reach`).

    Args:
        purpose, site: the purpose (and its site), or the site, the request touches.
        subject: for :attr:`ApiAction.SELF`, the subject the request is about.
        holdings: the ``(purpose, site)`` pairs a subject holds anything for; each must
            lie in scope.
        whole: the request reaches the whole deployment (unscoped keys only).
        other_key: the scope of a key being issued, listed or revoked; it must lie within
            the caller's.
    """
    details: dict[str, object] = {"role": key.role.value, "action": action.value}
    if key.role not in ALLOWED[action]:
        article = "an" if key.role.value[:1] in "aeiou" else "a"
        raise Forbidden(f"{article} {key.role.value} {key.noun} may not "
                        f"{ACTION_WORDS[action]}",
                        details=details)
    scope = key.scope
    if whole and not scope.unlimited:
        raise Forbidden("this reaches the whole deployment; a key limited to some purposes "
                        "or sites may not", details=details)
    if purpose is not None and not scope.covers(purpose=purpose):
        raise Forbidden(f"purpose {purpose!r} is outside this key's scope",
                        details={**details, "purpose": purpose})
    if site is not None and not scope.covers(site=site):
        raise Forbidden(f"site {site!r} is outside this key's scope",
                        details={**details, "site": site})
    outside = sorted(p for p, s in holdings or () if not scope.covers(purpose=p, site=s))
    if outside:
        raise Forbidden("the subject holds data for purposes outside this key's scope",
                        details={**details, "purposes": len(outside)})
    if other_key is not None and not scope.contains(other_key):
        raise Forbidden("a key may issue, see or revoke only keys within its own scope",
                        details=details)
    if key.role is Role.SUBJECT and subject is not None and subject != key.subject_id:
        raise Forbidden("a subject's token reaches only that subject's own data",
                        details=details)
