"""The gate: ``check`` decides, ``require`` mints a :class:`Grant` or raises.

Every biometric operation goes through :func:`require`; every change to the
books that the law constrains (sites, purposes, activation, consents,
assessment deletion) goes through one of the ``check_*`` functions and
:meth:`Decision.enforce`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..calibration.models import Calibration
from ..calibration.shipped import ShippedCalibration
from ..cameras.models import Camera
from ..consent.ledger import ConsentState
from ..errors import InvalidArgument
from ..jurisdictions import ConsentMethod, JurisdictionProfile
from ..organisation.models import Processor, Site
from ..purposes.models import Assessment, Mode, Purpose
from ..purposes.statements import ASSESSMENT_FACTS, NOTICE_FACTS, Statement
from ..texts import Text
from . import _mint, rules
from .decision import Decision, Grant, Operation, Outcome, reason
from .facts import ProcessingRequest

__all__ = [
    "check",
    "check_activation",
    "check_assessment",
    "check_assessment_deletion",
    "check_calibration_choice",
    "check_camera",
    "check_candidate",
    "check_capture",
    "check_consent",
    "check_document",
    "check_notice",
    "check_purpose",
    "check_site",
    "check_stream",
    "require",
    "require_stream",
]


def check(req: ProcessingRequest) -> Decision:
    """Decide a processing request.

    A registered purpose with alternatives answers a person who declined with
    ``route_to_alternative`` (R7), before any other rule: declining never fails.
    """
    if req.declined and req.purpose is not None:
        if req.purpose.alternatives:
            return Decision(Outcome.ROUTE_TO_ALTERNATIVE, alternatives=req.purpose.alternatives)
        mandate = req.purpose.mandate or Text()
        law = mandate.get("en") or next(iter(mandate.values()), "law")
        return Decision(Outcome.REFUSE, (reason(
            req.profile, "R7", "alternative.unavailable",
            f"purpose {req.purpose.key} has no alternative: face recognition is mandated by "
            f"{law}"),))
    return Decision.of(rules.processing_rules(req))


def check_capture(req: ProcessingRequest) -> Decision:
    """Decide a capture-guidance request: a quality check on a live camera frame for
    the enroll or verify it prepares (the kiosk's "come closer", "turn to the camera").

    The operation's rules apply (purpose live, assessment current, the subject's
    separate consent...) except the liveness receipt (H1): guidance comes before
    the liveness challenge, and it stores, compares and returns no template.
    """
    return Decision.of([r for r in rules.processing_rules(req) if r.rule != "H1"])


def require(req: ProcessingRequest) -> Grant:
    """A grant for ``req``, or the typed error of the first refusal.

    Raises:
        PolicyRefusal: a subclass named by the first reason's code.
        InvalidArgument: the person declined; use :func:`check` and route them.
    """
    decision = check(req)
    if decision.outcome is Outcome.ROUTE_TO_ALTERNATIVE:
        raise InvalidArgument("the person declined face recognition; route to the alternative")
    decision.enforce()
    assert req.purpose is not None
    return _mint.issue_grant(operation=req.operation.value, purpose_key=req.purpose.key,
                             subject_id=req.subject.id if req.subject else None,
                             jurisdiction=req.profile.key, issued_at=req.now,
                             retain_image=req.retain_image)


def check_candidate(profile: JurisdictionProfile, *, subject_id: str, purpose_key: str,
                    consent: ConsentState) -> Decision:
    """Whether an identification candidate may be returned: live consent (R2, R4)."""
    return Decision.of(rules.consent_rules(profile, subject_id=subject_id,
                                           purpose_key=purpose_key, consent=consent))


def check_camera(camera: Camera, site: Site, purposes: list[Purpose],
                 profile: JurisdictionProfile) -> Decision:
    """Whether ``camera`` may be registered (R12, R13, R1)."""
    return Decision.of(rules.camera_rules(camera, site, purposes, profile))


def check_stream(camera: Camera, site: Site, requests: list[ProcessingRequest], *,
                 passive_available: bool) -> Decision:
    """Whether ``camera``'s stream may start: one request per purpose it serves, for the
    camera's mode (``identify``, or ``verify`` with no subject yet)."""
    return Decision.of(rules.stream_rules(camera, site, requests, passive_available))


def require_stream(camera: Camera, site: Site, requests: list[ProcessingRequest], *,
                   passive_available: bool) -> dict[str, Grant]:
    """One grant per purpose for the stream's work (finding, following, describing and
    searching faces), or the typed error of the first refusal.

    Raises:
        PolicyRefusal: a subclass named by the first reason's code.
        InvalidArgument: a request is not for the camera's mode, or names a subject.
    """
    wanted = Operation.VERIFY if camera.mode is Mode.VERIFY else Operation.IDENTIFY
    if any(r.operation is not wanted or r.subject is not None for r in requests):
        raise InvalidArgument(f"a {camera.mode} camera's stream requests are for {wanted}, "
                              "with no subject")
    check_stream(camera, site, requests, passive_available=passive_available).enforce()
    grants = {}
    for req in requests:
        assert req.purpose is not None
        grants[req.purpose.key] = _mint.issue_grant(
            operation=req.operation.value, purpose_key=req.purpose.key, subject_id=None,
            jurisdiction=req.profile.key, issued_at=req.now)
    return grants


def check_site(site: Site, profile: JurisdictionProfile) -> Decision:
    """Whether ``site`` may be registered (R12, R13)."""
    return Decision.of(rules.site_rules(site, profile))


def check_purpose(purpose: Purpose, site: Site, profile: JurisdictionProfile) -> Decision:
    """Whether ``purpose`` may be registered or changed (R1, R7, R9, R13)."""
    return Decision.of(rules.purpose_rules(purpose, site, profile) +
                       rules.site_rules(site, profile))


def check_activation(purpose: Purpose, site: Site,
                     notice: Mapping[str, Text] | None, assessment_current: bool,
                     profile: JurisdictionProfile,
                     calibration: Calibration | None = None,
                     shipped: ShippedCalibration | None = None, *,
                     processor: Processor | None = None, reviewers: int | None = None,
                     notice_statements: Sequence[Statement] = (),
                     assessment_statements: Sequence[Statement] = ()) -> Decision:
    """Whether ``purpose`` may go live (R1, R6, R7, R9, R13, R14, R21).

    Every text people read is in each language the profile requires (R6:
    ``notice.incomplete``, naming the field and the language); the notice and the
    current assessment, as generated in each of them (``notice_statements``,
    ``assessment_statements``), agree with the records (``document.inconsistent``).

    An identification purpose needs its own population calibration. A
    verification-only purpose may go live on its own calibration, or on its
    pack's shipped calibration for the population it serves (``shipped``),
    with the R21 finding as a warning; never on another population's (an LFW
    calibration for a purpose serving East-Asian adults is refused).
    """
    reasons = (rules.purpose_rules(purpose, site, profile) +
               rules.site_rules(site, profile) +
               rules.record_language_rules(purpose, site, processor, profile) +
               rules.notice_rules(purpose, notice, profile) +
               rules.assessment_rules(purpose, assessment_current, profile) +
               rules.statement_rules(purpose, reviewers, notice_statements, profile,
                                     document="notice", required=NOTICE_FACTS) +
               rules.statement_rules(purpose, reviewers, assessment_statements, profile,
                                     document="assessment", required=ASSESSMENT_FACTS) +
               rules.calibration_rules(purpose, calibration, profile))
    if Mode.IDENTIFY in purpose.modes:
        return Decision.of(reasons)
    refusals, warnings = rules.verification_calibration_rules(purpose, calibration, shipped,
                                                              profile)
    return dataclasses.replace(Decision.of(reasons + refusals), warnings=tuple(warnings))


def check_calibration_choice(purpose: Purpose, calibration: Calibration | None,
                             shipped: ShippedCalibration | None,
                             profile: JurisdictionProfile) -> Decision:
    """Whether ``purpose`` (as it would be) may run at ``calibration``, one of its own
    recorded calibrations, or with none at its pack's shipped calibration for the
    population it serves (``shipped``): R21, as at activation. An identification purpose
    needs its own; a verification purpose may run at the shipped one, with a warning."""
    if Mode.IDENTIFY in purpose.modes:
        return Decision.of(rules.calibration_rules(purpose, calibration, profile))
    refusals, warnings = rules.verification_calibration_rules(purpose, calibration, shipped,
                                                              profile)
    return dataclasses.replace(Decision.of(refusals), warnings=tuple(warnings))


def check_notice(purpose: Purpose, content: Mapping[str, Text] | None,
                 profile: JurisdictionProfile, *, reviewers: int | None = None,
                 statements: Sequence[Statement] = ()) -> Decision:
    """Whether a notice may be published: its own words in every language (R6), and, as
    generated with them (``statements``), no paragraph contradicting the records."""
    return Decision.of(rules.notice_rules(purpose, content, profile) +
                       rules.statement_rules(purpose, reviewers, statements, profile,
                                             document="notice"))


def check_assessment(content: Mapping[str, Text], signed_by: str,
                     profile: JurisdictionProfile, *, purpose: Purpose | None = None,
                     reviewers: int | None = None,
                     statements: Sequence[Statement] = ()) -> Decision:
    """Whether an impact assessment holds every required item in every language (R14),
    and, as generated with the records (``statements``), contradicts none of them."""
    reasons = rules.assessment_content_rules(content, signed_by, profile)
    if purpose is not None:
        reasons += rules.statement_rules(purpose, reviewers, statements, profile,
                                         document="assessment")
    return Decision.of(reasons)


def check_document(purpose: Purpose, site: Site, processor: Processor | None,
                   reviewers: int | None, statements: Sequence[Statement],
                   profile: JurisdictionProfile, *, document: str, lang: str,
                   content: Mapping[str, Text] | None = None,
                   signed_by: str = "") -> Decision:
    """Whether a document about ``purpose`` (``notice`` or ``assessment``) may be issued in
    ``lang`` as generated (``statements``): every record text it shows and the deployer's
    own words (``content``: the published notice's, or the latest assessment's, signed by
    ``signed_by``) exist in ``lang`` (``notice.incomplete``, ``assessment.missing``); it
    states each fact of the records as they are and none of its paragraphs contradicts
    them (R6, R14: ``document.inconsistent``)."""
    langs = (lang,)
    reasons = rules.record_language_rules(purpose, site, processor, profile, langs)
    if document == "notice" and content is not None:
        reasons += rules.notice_rules(purpose, content, profile, langs)
    if document == "assessment" and content is not None:
        reasons += rules.assessment_content_rules(content, signed_by, profile, langs)
    required = NOTICE_FACTS if document == "notice" else ASSESSMENT_FACTS
    reasons += rules.statement_rules(purpose, reviewers, statements, profile,
                                     document=document, required=required)
    return Decision.of(reasons)


def check_assessment_deletion(assessment: Assessment, now: datetime,
                              profile: JurisdictionProfile) -> Decision:
    """Whether an impact assessment may be deleted yet (R14)."""
    return Decision.of(rules.assessment_deletion_rules(assessment, now, profile))


def check_consent(*, purpose: Purpose, separate: bool, notice_version: int | None,
                  current_notice: int | None, method: ConsentMethod, minor: bool,
                  guardian_name: str | None, profile: JurisdictionProfile) -> Decision:
    """Whether a consent may be recorded (R3, R5)."""
    return Decision.of(rules.consent_record_rules(
        purpose=purpose, separate=separate, notice_version=notice_version,
        current_notice=current_notice, method=method, minor=minor, guardian_name=guardian_name,
        profile=profile))


