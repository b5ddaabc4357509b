"""Purposes, notices and impact assessments, as frozen plain data.

A purpose is a dotted key (``access.office.entry``) with everything the
regulation asks a processor to decide before processing: why face recognition
is necessary, the legal basis, whether it verifies (1:1) or identifies (1:N),
the non-biometric alternatives offered, how long templates are kept, where
they are stored, whether liveness is required, and its status. Every text in it
that a person reads is a :class:`~facegate.texts.Text`, per language.

A notice is not typed by hand: what the purpose does (its method, 1:1 or 1:N,
review, retention, storage, the alternative, how to withdraw) is generated from
the purpose's own records (:mod:`facegate.purposes.statements`); the notice
the deployer publishes holds their own words, which are added to each item and
cannot replace it. Only the items the records cannot state
(:data:`NOTICE_TYPED_ITEMS`: how people who need help are helped) must be written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..errors import InvalidArgument
from ..texts import LANGUAGES, Text

__all__ = [
    "ASSESSMENT_ITEMS",
    "DEFAULT_PURPOSE_PACK",
    "DEFAULT_PURPOSE_POPULATION",
    "NOTICE_ITEMS",
    "NOTICE_LANGUAGES",
    "NOTICE_TYPED_ITEMS",
    "TRANSITIONS",
    "Alternative",
    "Assessment",
    "Mode",
    "Notice",
    "Purpose",
    "PurposeStatus",
    "StorageMode",
    "alternatives_of",
    "assessment_content",
    "check_population",
    "check_purpose_key",
    "method_fingerprint",
    "missing_assessment_items",
    "missing_notice_items",
    "notice_content",
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

#: The items of a notice (CN Art. 5 (1)-(5) and its accessibility paragraph). Each is
#: generated from the records in every language, and the deployer's words are added.
NOTICE_ITEMS: Final = (
    "processor",             # (1) name and contact of the processor
    "purpose_and_method",    # (2) purpose and method of processing
    "retention_period",      # (2) retention period
    "necessity_and_impact",  # (3) necessity and impact on the individual's rights
    "how_to_exercise_rights",  # (4) how to exercise rights, withdrawal included
    "other_legal_items",     # (5) other items required by law
    "accessibility",         # accessible to elderly and disabled people
)
#: The items the records cannot state, which the deployer writes in every language.
NOTICE_TYPED_ITEMS: Final = ("accessibility",)
#: The languages of a notice unless the jurisdiction profile names others.
NOTICE_LANGUAGES: Final = LANGUAGES

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


#: The words of a record field nobody wrote.
_NO_TEXT: Final = Text()

_ALTERNATIVE_KEY = re.compile(r"^[^\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]{1,100}$")


@dataclass(frozen=True, slots=True)
class Alternative:
    """A non-biometric way to meet the purpose, offered to anyone who declines (R7).

    Args:
        key: the stable name an alternative check is recorded under
            (``record_alternative_outcome(method=key)``), like ``badge``.
        name: what a person is told, per language.
    """

    key: str
    name: Text

    @classmethod
    def of(cls, value: object) -> Alternative:
        """An alternative from ``{"key": ..., "name": {"zh": ..., "en": ...}}``, or from a
        single string (then both its key and its words, filed under its script's
        language: how alternatives were recorded before they had a name per language).

        Raises:
            InvalidArgument: neither form, or a key that is blank, longer than 100
                characters or holds control characters.
        """
        if isinstance(value, Alternative):
            return value
        if isinstance(value, str):
            key, name = value.strip(), Text.of(value, field="alternative")
        elif isinstance(value, Mapping) and set(value) <= {"key", "name"} and "key" in value:
            key = str(value["key"]).strip()
            name = Text.of(value.get("name"), field=f"alternative {key}")
        else:
            raise InvalidArgument('an alternative is {"key": "badge", "name": {"zh": ..., '
                                  '"en": ...}}', details={"field": "alternatives"})
        if not _ALTERNATIVE_KEY.match(key):
            raise InvalidArgument(f"alternative key {key[:40]!r} must be 1-100 characters "
                                  "without control characters", details={"field": "alternatives"})
        return cls(key=key, name=name)

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "name": dict(self.name)}


def alternatives_of(values: Iterable[object]) -> tuple[Alternative, ...]:
    """Alternatives from their input forms (see :meth:`Alternative.of`); blank strings are
    skipped, a key given twice is refused."""
    found = tuple(Alternative.of(v) for v in values if not (isinstance(v, str) and not v.strip()))
    keys = [a.key for a in found]
    if len(set(keys)) != len(keys):
        raise InvalidArgument("two alternatives share a key", details={"keys": keys})
    return found


@dataclass(frozen=True, slots=True)
class Purpose:
    """A registered purpose of processing.

    Args:
        key: dotted key.
        site_key: the capture site it runs at.
        description: what is done, in a sentence, per language.
        necessity: why face recognition is necessary here (CN Art. 4), per language.
        legal_basis: the legal basis (separate consent, a cited law, ...), per language.
        modes: verification and/or identification.
        alternatives: non-biometric methods offered to anyone who declines (R7).
        mandate: the law that makes face recognition the only method, when
            ``alternatives`` is empty (R7), per language.
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
        name: the purpose's short name, per language (what the kiosk and the
            documents call it).
    """

    key: str
    site_key: str
    description: Text
    necessity: Text
    legal_basis: Text
    modes: frozenset[Mode]
    alternatives: tuple[Alternative, ...]
    mandate: Text | None
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
    name: Text = _NO_TEXT

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

    def alternative(self, key: str) -> Alternative | None:
        """The alternative recorded under ``key``, if the purpose offers it."""
        return next((a for a in self.alternatives if a.key == key), None)


def method_fingerprint(purpose: Purpose) -> str:
    """A hash of what an impact assessment assessed: purpose, method, modes, place.

    When it changes, the assessment no longer describes the processing (R14). A
    text in one language is hashed as its words (as texts were before they were
    kept per language, so an upgraded store's assessments stay current); adding or
    changing a language's words is a change.
    """
    facts = {
        "description": purpose.description.canonical(),
        "necessity": purpose.necessity.canonical(),
        "legal_basis": purpose.legal_basis.canonical(), "modes": sorted(purpose.modes),
        "storage_mode": purpose.storage_mode.value, "liveness": purpose.liveness_required,
        "site": purpose.site_key, "public_security": purpose.public_security,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Notice:
    """One version of a purpose's notice (CN Art. 5): the deployer's own words.

    ``content`` maps items of :data:`NOTICE_ITEMS` to the words added to what the
    records state for that item, per language. The notice a person reads is the
    generated statement of each item followed by these words
    (:func:`facegate.purposes.statements.notice_statements`).
    """

    purpose_key: str
    version: int
    content: Mapping[str, Text]
    published_at: datetime


def notice_content(content: Mapping[str, object]) -> dict[str, Text]:
    """A notice's words by item, from ``{item: {"zh": ..., "en": ...}}``.

    Raises:
        InvalidArgument: an item that is not one of :data:`NOTICE_ITEMS`, or words
            that are not text per language.
    """
    unknown = sorted(set(content) - set(NOTICE_ITEMS))
    if unknown:
        raise InvalidArgument(f"a notice has no item {', '.join(unknown)}; its items are "
                              f"{', '.join(NOTICE_ITEMS)}", details={"items": unknown})
    return {item: Text.of(content[item], field=f"notice {item}") for item in NOTICE_ITEMS
            if item in content and Text.of(content[item], field=f"notice {item}")}


def missing_notice_items(content: Mapping[str, Text],
                         languages: tuple[str, ...] = NOTICE_LANGUAGES) -> list[str]:
    """The ``item/language`` pairs a notice lacks: an item of :data:`NOTICE_TYPED_ITEMS`
    without words in a language, or words added to an item in one language but not in
    another."""
    out = []
    for item in NOTICE_ITEMS:
        words = content.get(item) or Text()
        if item in NOTICE_TYPED_ITEMS or words:
            out += [f"{item}/{lang}" for lang in words.missing(languages)]
    return out


@dataclass(frozen=True, slots=True)
class Assessment:
    """A signed personal-information impact assessment of one purpose (R14).

    ``content`` maps each item of :data:`ASSESSMENT_ITEMS` to the signed statement,
    per language. It is current while ``stale_since`` is empty and
    ``method_fingerprint`` equals the purpose's; it may not be deleted within the
    profile's keep period.
    """

    id: int
    purpose_key: str
    content: Mapping[str, Text]
    method_fingerprint: str
    signed_by: str
    signed_at: datetime
    stale_since: datetime | None
    stale_reason: str | None

    def is_current_for(self, purpose: Purpose) -> bool:
        return self.stale_since is None and self.method_fingerprint == method_fingerprint(purpose)


def assessment_content(content: Mapping[str, object]) -> dict[str, Text]:
    """An assessment's statements by item, from ``{item: {"zh": ..., "en": ...}}`` (a single
    string is filed under its script's language).

    Raises:
        InvalidArgument: an item that is not one of :data:`ASSESSMENT_ITEMS`.
    """
    unknown = sorted(set(content) - set(ASSESSMENT_ITEMS))
    if unknown:
        raise InvalidArgument(f"an impact assessment has no item {', '.join(unknown)}; its "
                              f"items are {', '.join(ASSESSMENT_ITEMS)}",
                              details={"items": unknown})
    return {item: Text.of(content[item], field=f"assessment {item}")
            for item in ASSESSMENT_ITEMS if item in content}


def missing_assessment_items(content: Mapping[str, Text],
                             languages: tuple[str, ...] = NOTICE_LANGUAGES) -> list[str]:
    """The ``item/language`` pairs of :data:`ASSESSMENT_ITEMS` without a statement."""
    return [f"{item}/{lang}" for item in ASSESSMENT_ITEMS
            for lang in (content.get(item) or Text()).missing(languages)]


def frozen_content(content: Mapping[str, Text]) -> Mapping[str, Text]:
    """A read-only copy of a notice's or an assessment's content."""
    return MappingProxyType(dict(content))
