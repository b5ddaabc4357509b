"""Decisions, their reasons, and grants.

A :class:`Decision` says allow, refuse or route to the alternative, with the
:class:`Reason` for each refusal. A :class:`Grant` is the proof that the gate
allowed one operation for one purpose (and subject); the biometric services
accept nothing else. Only :mod:`facegate.policy` can mint one: its seal is an
HMAC under a key private to the policy package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..errors import Error, GrantInvalid, PolicyRefusal, error_class_for_code
from ..jurisdictions import JurisdictionProfile
from ..purposes.models import Alternative
from . import _mint

__all__ = ["Decision", "Grant", "Operation", "Outcome", "Reason", "reason"]


class Operation(StrEnum):
    """What a grant allows. Enroll stores a template; verify is 1:1, identify 1:N."""

    ENROLL = "enroll"
    VERIFY = "verify"
    IDENTIFY = "identify"
    EXPORT = "export"


class Outcome(StrEnum):
    """What the gate decided."""

    ALLOW = "allow"
    REFUSE = "refuse"
    ROUTE_TO_ALTERNATIVE = "route_to_alternative"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule refused: the rule id, the error code, and the law behind it; ``fields``
    names what is missing or wrong, one entry each (``purpose description/zh``)."""

    rule: str
    code: str
    jurisdiction: str
    article: str
    message: str
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule, "code": self.code, "jurisdiction": self.jurisdiction,
            "article": self.article, "message": self.message}
        if self.fields:
            out["fields"] = list(self.fields)
        return out


def reason(profile: JurisdictionProfile, rule: str, code: str, message: str, *,
           fields: tuple[str, ...] = ()) -> Reason:
    """A :class:`Reason` citing ``rule`` as ``profile`` enforces it."""
    return Reason(rule=rule, code=code, jurisdiction=profile.key, article=profile.article(rule),
                  message=message, fields=fields)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a check, with every reason for a refusal.

    ``alternatives`` is set when the outcome is ``route_to_alternative``;
    ``warnings`` are findings that do not refuse but must be shown and audited.
    """

    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    warnings: tuple[Reason, ...] = ()

    @staticmethod
    def of(reasons: list[Reason]) -> Decision:
        """Allow when ``reasons`` is empty, refuse otherwise."""
        return Decision(Outcome.REFUSE, tuple(reasons)) if reasons else Decision(Outcome.ALLOW)

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    def error(self) -> PolicyRefusal:
        """The typed error of the first reason, with every reason in its details."""
        if not self.reasons:
            raise ValueError("an allowing decision has no error")
        first = self.reasons[0]
        cls: type[Error] = error_class_for_code(first.code)
        if not issubclass(cls, PolicyRefusal):
            cls = PolicyRefusal
        details: dict[str, object] = {
            "rule": first.rule, "jurisdiction": first.jurisdiction, "article": first.article,
            "reasons": [r.as_dict() for r in self.reasons]}
        if first.fields:
            details["fields"] = list(first.fields)
        return cls(first.message, details=details)

    def enforce(self) -> None:
        """Raise :meth:`error` unless the decision allows."""
        if self.outcome is Outcome.REFUSE:
            raise self.error()


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission for one operation, minted by the policy gate.

    Args:
        operation: what may be done.
        purpose_key: for which purpose.
        subject_id: for which subject (``None`` for identification).
        jurisdiction: the profile that allowed it.
        issued_at: when.
        seal: the policy layer's HMAC over the other fields.
        retain_image: the raw image may be kept, sealed (separate consent, R10).

    Raises:
        GrantInvalid: the seal does not match; the grant was not minted by policy.
    """

    operation: Operation
    purpose_key: str
    subject_id: str | None
    jurisdiction: str
    issued_at: datetime
    seal: bytes = field(repr=False)
    retain_image: bool = False

    def facts(self) -> tuple[str, ...]:
        return (self.operation.value, self.purpose_key, self.subject_id or "",
                self.jurisdiction, self.issued_at.isoformat(),
                "retain_image" if self.retain_image else "")

    def __post_init__(self) -> None:
        if not _mint.verify(self.facts(), self.seal):
            raise GrantInvalid("this grant was not issued by the policy gate",
                               details={"rule": "R1", "operation": str(self.operation)})

    def ensure_covers(self, operation: Operation, *, purpose_key: str,
                      subject_id: str | None) -> None:
        """Raise :class:`GrantInvalid` unless this grant allows exactly this operation."""
        if (self.operation, self.purpose_key, self.subject_id) != (operation, purpose_key,
                                                                   subject_id):
            raise GrantInvalid(
                f"the grant allows {self.operation} for {self.purpose_key}, not {operation} "
                f"for {purpose_key}",
                details={"rule": "R1", "granted": list(self.facts()[:3]),
                         "requested": [operation.value, purpose_key, subject_id or ""]})
