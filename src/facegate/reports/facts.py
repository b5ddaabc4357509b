"""What the builders read: the deployment's records, gathered as frozen plain data.

:mod:`facegate.deployment.reports` fills these from the store in one read;
the builders never touch the store, so every number in a document is computed
here from records, never typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..audit.trail import AuditEvent
from ..calibration.models import Calibration
from ..calibration.shipped import ShippedCalibration
from ..jurisdictions import JurisdictionProfile
from ..organisation.models import Processor, Site
from ..purposes.models import Assessment, Notice, Purpose

__all__ = ["ChainStatus", "FilingEntry", "Header", "PurposeRecords", "SummaryRecords"]


@dataclass(frozen=True, slots=True)
class Header:
    """Who the document is from and which state of the system it describes."""

    processor: Processor
    profile: JurisdictionProfile
    generated_at: datetime
    audit_seq: int


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The audit log's check: intact with its entries and checkpoint, or broken with why."""

    intact: bool
    entries: int
    checkpoint_seq: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class PurposeRecords:
    """One purpose and everything recorded about it, for its notice and its assessment."""

    purpose: Purpose
    site: Site
    notice: Notice | None
    assessments: tuple[Assessment, ...]
    calibration: Calibration | None
    threshold: float
    pack_version: str
    templates: int
    individuals: int
    next_expiry: datetime | None
    events: tuple[AuditEvent, ...]
    alternative_results: Mapping[str, int]
    transfer_consents: int
    reviewers: tuple[str, ...]
    reviewers_required: int | None
    """The distinct reviewers who confirm a hit; ``None`` when hits are not reviewed."""
    chain: ChainStatus
    sweeps: tuple[AuditEvent, ...] = ()
    shipped: ShippedCalibration | None = None
    """The pack's shipped calibration for the population the purpose serves, when the
    purpose's threshold comes from it (no calibration of its own, none set by hand)."""


@dataclass(frozen=True, slots=True)
class FilingEntry:
    """A filing, change or early-warning record (R17, R18), as stored."""

    kind: str
    individuals: int
    threshold: int | None
    triggered_on: date
    due_on: date | None
    reason: str
    content: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SummaryRecords:
    """What happened in a period: audit entries, alternative checks, review cases."""

    since: datetime | None
    until: datetime
    purposes: tuple[Purpose, ...]
    sites: Mapping[str, Site]
    events: tuple[AuditEvent, ...]
    alternative_results: Mapping[str, Mapping[str, int]]
    review_statuses: Mapping[str, int]
    chain: ChainStatus
    extra: Mapping[str, Any] = field(default_factory=dict)
