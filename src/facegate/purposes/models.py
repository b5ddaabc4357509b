"""Purposes, notices and impact assessments, as frozen plain data.

A purpose is a dotted key (``access.office.entry``) with everything the
regulation asks a processor to decide before processing: why face recognition
is necessary, the legal basis, whether it verifies (1:1) or identifies (1:N),
the non-biometric alternatives offered, how long templates are kept, where
they are stored, whether liveness is required, and its status.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..errors import InvalidArgument

__all__ = [
    "ASSESSMENT_ITEMS",
    "DEFAULT_PURPOSE_PACK",
    "DEFAULT_PURPOSE_POPULATION",
    "NOTICE_ITEMS",
    "NOTICE_LANGUAGES",
    "TRANSITIONS",
    "Assessment",
    "Mode",
    "Notice",
    "Purpose",
    "PurposeStatus",
    "StorageMode",
    "check_population",
    "check_purpose_key",
    "method_fingerprint",
    "missing_assessment_items",
    "missing_notice_items",
]

#: The model pack of a purpose record that names none (``facegate.engine.packs.DEFAULT_PACK``,
#: always installed). A purpose registered through the deployment names the best-measured
#: installed pack for the population it serves unless the deployer names another.
DEFAULT_PURPOSE_PACK: Final = "dlib-resnet-v1"
#: The population of a purpose record that names none (the default profile's, cn-2025).
DEFAULT_PURPOSE_POPULATION: Final = "east-asian-adults"

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_POPULATION = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Mode(StrEnum):
    """How faces are compared (CN Art. 19): 1:1 verification or 1:N identification."""

    VERIFY = "verify"
    IDENTIFY = "identify"


class StorageMode(StrEnum):
    """Where templates live: in the recognition device (CN Art. 8 default) or centrally."""

    DEVICE = "device"
    CENTRAL = "central"


class PurposeStatus(StrEnum):
    """A purpose's lifecycle. Only ``active`` purposes process faces."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"


#: Allowed status changes: (from, to).
TRANSITIONS: Final = frozenset({
    (PurposeStatus.DRAFT, PurposeStatus.ACTIVE),
    (PurposeStatus.ACTIVE, PurposeStatus.SUSPENDED),
    (PurposeStatus.SUSPENDED, PurposeStatus.ACTIVE),
    (PurposeStatus.DRAFT, PurposeStatus.SUSPENDED),
})

#: The items a notice must hold, each in every language (CN Art. 5 (1)-(5) and
#: its accessibility paragraph).
NOTICE_ITEMS: Final = (
    "processor",             # (1) name and contact of the processor
    "purpose_and_method",    # (2) purpose and method of processing
    "retention_period",      # (2) retention period
    "necessity_and_impact",  # (3) necessity and impact on the individual's rights
    "how_to_exercise_rights",  # (4) how to exercise rights, withdrawal included
    "other_legal_items",     # (5) other items required by law
    "accessibility",         # accessible to elderly and disabled people
)
NOTICE_LANGUAGES: Final = ("zh", "en")

#: The items of an impact assessment (PIPL 56, CN Art. 9) plus alternatives.
ASSESSMENT_ITEMS: Final = (
    "lawful_legitimate_necessary",  # purpose and method lawful, legitimate, necessary
    "rights_impact",                # impact on rights and whether mitigations work
    "security_risks",               # leakage, tampering, loss, misuse, and the harm
    "protection_measures",          # lawful, effective, proportionate to the risk
    "alternatives_considered",      # non-biometric ways to meet the purpose
)


def check_purpose_key(key: str) -> str:
    """Return ``key`` if it is a dotted lowercase key, else raise ``InvalidArgument``."""
    if len(key) > 100 or not _KEY.fullmatch(key):
        raise InvalidArgument(
            f"purpose key {key!r} must be dotted lowercase words, like access.office.entry",
            details={"purpose": key})
    return key


def check_population(population: str) -> str:
    """Return ``population`` if it is a lowercase name (``east-asian-adults``), else raise
    ``InvalidArgument``."""
    if not _POPULATION.match(population):
        raise InvalidArgument(
            f"population {population!r} must be a lowercase name, like east-asian-adults",
            details={"population": population})
    return population


@dataclass(frozen=True, slots=True)
class Purpose:
    """A registered purpose of processing.

    Args:
        key: dotted key.
        site_key: the capture site it runs at.
        description: what is done, in a sentence.
        necessity: why face recognition is necessary here (CN Art. 4).
        legal_basis: the legal basis (separate consent, a cited law, ...).
        modes: verification and/or identification.
        alternatives: non-biometric methods offered to anyone who declines (R7).
        mandate: the law that makes face recognition the only method, when
            ``alternatives`` is empty (R7).
        retention_days: how long a template is kept (R9).
        storage_mode: device (default) or central (R8).
        liveness_required: whether capture must pass a liveness check.
        public_security: the purpose is public security (needed in public places, R13).
        threshold: the decision distance; the model pack's calibrated default when ``None``.
        status: draft, active or suspended.
        pack: the model pack whose templates the purpose's gallery holds.
        calibration_id: the calibration ``threshold`` was locked to, if any.
        next_pack: during a pack migration, the pack subjects re-enroll with.
        next_threshold: the threshold of ``next_pack``.
        next_calibration_id: the calibration of ``next_pack``, if any.
        migration_ends_at: the end of the transition window, when templates of
            ``pack`` stop being used.
        population: the population the purpose serves (``east-asian-adults``,
            ``lfw-view1``, or the deployer's own name for it); without its own
            calibration its threshold is its pack's shipped calibration for this
            population (R21).
    """

    key: str
    site_key: str
    description: str
    necessity: str
    legal_basis: str
    modes: frozenset[Mode]
    alternatives: tuple[str, ...]
    mandate: str | None
    retention_days: int
    storage_mode: StorageMode
    liveness_required: bool
    public_security: bool
    threshold: float | None
    status: PurposeStatus
    registered_at: datetime
    updated_at: datetime
    pack: str = DEFAULT_PURPOSE_PACK
    calibration_id: int | None = None
    next_pack: str | None = None
    next_threshold: float | None = None
    next_calibration_id: int | None = None
    migration_ends_at: datetime | None = None
    population: str = DEFAULT_PURPOSE_POPULATION

    def packs_in_use(self, now: datetime) -> tuple[str, ...]:
        """The packs whose templates are valid now: the pack, and during a
        migration's window the next pack too."""
        if self.next_pack is None:
            return (self.pack,)
        if self.migration_ends_at is not None and now >= self.migration_ends_at:
            return (self.next_pack,)
        return (self.pack, self.next_pack)

    def enrolling_pack(self) -> str:
        """The pack new templates are made with (the next pack during a migration)."""
        return self.next_pack or self.pack

    def threshold_for(self, pack: str) -> float | None:
        """The purpose's threshold for ``pack`` (``None``: the pack's shipped default)."""
        return self.next_threshold if pack == self.next_pack else self.threshold


def method_fingerprint(purpose: Purpose) -> str:
    """A hash of what an impact assessment assessed: purpose, method, modes, place.

    When it changes, the assessment no longer describes the processing (R14).
    """
    facts = {
        "description": purpose.description, "necessity": purpose.necessity,
        "legal_basis": purpose.legal_basis, "modes": sorted(purpose.modes),
        "storage_mode": purpose.storage_mode.value, "liveness": purpose.liveness_required,
        "site": purpose.site_key, "public_security": purpose.public_security,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Notice:
    """One version of the notice shown before consent (CN Art. 5).

    ``content`` maps each item of :data:`NOTICE_ITEMS` to its text per language.
    """

    purpose_key: str
    version: int
    content: Mapping[str, Mapping[str, str]]
    published_at: datetime


def missing_notice_items(content: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The ``item/language`` pairs that are absent or blank."""
    return [f"{item}/{lang}" for item in NOTICE_ITEMS for lang in NOTICE_LANGUAGES
            if not str(content.get(item, {}).get(lang, "")).strip()]


@dataclass(frozen=True, slots=True)
class Assessment:
    """A signed personal-information impact assessment of one purpose (R14).

    It is current while ``stale_since`` is empty and ``method_fingerprint``
    equals the purpose's; it may not be deleted within the profile's keep period.
    """

    id: int
    purpose_key: str
    content: Mapping[str, str]
    method_fingerprint: str
    signed_by: str
    signed_at: datetime
    stale_since: datetime | None
    stale_reason: str | None

    def is_current_for(self, purpose: Purpose) -> bool:
        return self.stale_since is None and self.method_fingerprint == method_fingerprint(purpose)


def missing_assessment_items(content: Mapping[str, str]) -> list[str]:
    """The items of :data:`ASSESSMENT_ITEMS` that are absent or blank."""
    return [item for item in ASSESSMENT_ITEMS if not str(content.get(item, "")).strip()]


def frozen_content(content: Mapping[str, Mapping[str, str]]) -> Mapping[str, Mapping[str, str]]:
    """A read-only copy of notice content."""
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in content.items()})
