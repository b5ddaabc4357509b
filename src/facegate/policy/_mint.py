"""The seal that makes a :class:`~facegate.policy.decision.Grant` unforgeable outside policy.

A grant carries an HMAC of its fields under a key that exists only in this
process, created on first use. Constructing a grant (or ``dataclasses.replace``
on one) with any other seal fails. This module is private to
:mod:`facegate.policy`; an import-linter ``private_modules`` contract keeps
every other module from importing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .decision import Grant

__all__ = ["issue_grant", "seal", "verify"]


@lru_cache(maxsize=1)
def _key() -> bytes:
    return secrets.token_bytes(32)


def _message(facts: tuple[str, ...]) -> bytes:
    return "\x1f".join(facts).encode()


def seal(facts: tuple[str, ...]) -> bytes:
    """The seal of a grant with these facts."""
    return hmac.new(_key(), _message(facts), hashlib.sha256).digest()


def verify(facts: tuple[str, ...], candidate: bytes) -> bool:
    """Whether ``candidate`` is the seal of ``facts``."""
    return hmac.compare_digest(seal(facts), candidate)


def issue_grant(*, operation: str, purpose_key: str, subject_id: str | None,
                jurisdiction: str, issued_at: datetime, retain_image: bool = False) -> Grant:
    """Mint a sealed grant. Called only by :func:`facegate.policy.gate.require`."""
    from .decision import Grant, Operation

    op = Operation(operation)
    facts = (op.value, purpose_key, subject_id or "", jurisdiction, issued_at.isoformat(),
             "retain_image" if retain_image else "")
    return Grant(operation=op, purpose_key=purpose_key, subject_id=subject_id,
                 jurisdiction=jurisdiction, issued_at=issued_at, seal=seal(facts),
                 retain_image=retain_image)
