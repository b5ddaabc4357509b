"""The plain facts a decision is made on, gathered by the service layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..calibration.models import Calibration
from ..calibration.shipped import ShippedCalibration
from ..consent.ledger import ConsentState
from ..jurisdictions import JurisdictionProfile
from ..organisation.models import Site
from ..purposes.models import Purpose
from .decision import Operation

__all__ = ["ProcessingRequest", "SubjectFacts"]


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What the rules need to know about the subject of a 1:1 operation.

    Args:
        id: pseudonymous id.
        minor: a guardian must consent (R5).
        consent: biometric consent for the purpose (R2-R4).
        transfer_consent: separate consent to move templates off the device (R8).
        retain_image_consent: separate consent to keep the raw image (R10).
    """

    id: str
    minor: bool
    consent: ConsentState
    transfer_consent: bool = False
    retain_image_consent: bool = False


@dataclass(frozen=True, slots=True)
class ProcessingRequest:
    """A request to enroll, verify, identify or export, and the facts around it.

    Args:
        operation: what is asked.
        profile: the jurisdiction profile in force.
        purpose_key: the purpose named by the caller (may be unregistered).
        purpose: the registered purpose, or ``None``.
        site: the purpose's site.
        notice_version: the purpose's current notice version, if any.
        assessment_current: the purpose has a current impact assessment.
        subject: the subject, for enroll/verify/export.
        declined: the person declined face recognition (R7).
        gallery: for identification, the purpose whose templates are searched.
        gallery_site: the site of that purpose.
        retain_image: the caller asks to keep the raw image (R10).
        calibration: the calibration the purpose's threshold is locked to (R21).
        next_calibration: during a pack migration, the next pack's calibration.
        shipped: for verification, each pack's shipped calibration for the population
            the purpose serves (``None`` where the pack has none), R21.
        liveness: for a purpose that requires liveness, the state of the liveness
            receipt offered with an enroll or verify: ``"passed"`` when a valid one
            was consumed for it, otherwise why not (``"missing"``, ``"unknown"``,
            ``"used"``, ``"expired"``, ``"other_purpose"``); ``None`` when not asked.
        now: the time of the request.
        central_store: the deployment's store is central (a PostgreSQL server shared
            by several processes or machines), not on the device (R8).
    """

    operation: Operation
    profile: JurisdictionProfile
    purpose_key: str | None
    purpose: Purpose | None
    site: Site | None
    notice_version: int | None
    assessment_current: bool
    now: datetime
    subject: SubjectFacts | None = None
    declined: bool = False
    gallery: Purpose | None = None
    gallery_site: Site | None = None
    retain_image: bool = False
    calibration: Calibration | None = None
    next_calibration: Calibration | None = None
    shipped: Mapping[str, ShippedCalibration | None] = field(default_factory=dict)
    liveness: str | None = None
    central_store: bool = False
