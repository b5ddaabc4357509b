"""The response models: what each successful response may hold, field by field.

Every JSON 2xx response of the API has a model here, given as the route's
``response_model``; FastAPI validates the route's answer against it and sends
only the fields listed (an allowlist: a field added to a record does not leak
into the API until it is added here too), and the OpenAPI document
(``docs/openapi.json``) describes exactly these shapes. Times are ISO 8601
strings (UTC, with their offset), as the library writes them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "AccessReportOut", "ActivatedOut", "AlternativeOut", "AlternativeOutcomeOut",
    "AlternativeWords",
    "AssessmentOut", "AssessmentResponse", "AuditCheck", "AuditEntry", "AuditPage", "BoxOut",
    "CameraList", "CameraOut", "CameraResponse", "CameraStopped",
    "CandidateOut", "CaseOut", "CaseResponse", "CasesPage", "ChallengeOut", "ClaimOut",
    "ClaimResponse", "ConsentOut",
    "ConsentRecorded", "DecisionOut", "DeclineOut", "EnrollOut", "ErasureOut",
    "ErasureReceiptOut", "EventOut", "EventPage", "FaceOut", "FilingOut", "FilingRecordOut",
    "FilingResponse", "Health", "IdentifyOut", "KeyIssued", "KeyOut", "KeyResponse", "KeysPage",
    "LivenessOut", "LivenessResultOut", "ModelInfo", "NoticeOut", "NoticeResponse", "OutboxOut",
    "ProcessorOut", "ProcessorResponse", "PublicNotice", "PurposeDetail", "PurposeOut",
    "PurposeResponse", "PurposesList", "ReviewSettingsOut", "ReviewSettingsResponse",
    "ReviewerOut", "SiteOut", "SiteResponse", "SitesList", "StaffAdded", "StaffOut", "StaffPage",
    "StaffResponse", "SubjectOut", "SubjectResponse",
    "SubjectsPage", "VerifyOut", "WebhookCreated", "WebhookList", "WebhookOut",
    "WebhookRevoked", "WithdrawalOut",
]


class Health(BaseModel):
    status: str


# -- the books ------------------------------------------------------------------------

#: Words people read, by language: ``{"zh": "...", "en": "..."}``.
Words = dict[str, str]


class AlternativeWords(BaseModel):
    #: what an alternative check is recorded under
    key: str
    name: Words


class ProcessorOut(BaseModel):
    name: Words
    contact: Words
    credit_code: str
    jurisdiction: str
    province: Words
    security_measures: Words
    registered_at: str


class ProcessorResponse(BaseModel):
    processor: ProcessorOut | None


class SiteOut(BaseModel):
    key: str
    name: Words
    site_type: str
    public_place: bool
    capture_zone: str | None
    signage_attested: bool
    registered_at: str


class SiteResponse(BaseModel):
    site: SiteOut


class SitesList(BaseModel):
    sites: list[SiteOut]


class PurposeOut(BaseModel):
    key: str
    site_key: str
    name: Words
    description: Words
    necessity: Words
    legal_basis: Words
    modes: list[str]
    alternatives: list[AlternativeWords]
    mandate: Words | None
    retention_days: int
    storage_mode: str
    liveness_required: bool
    public_security: bool
    threshold: float | None
    status: str
    registered_at: str
    updated_at: str
    pack: str
    population: str
    calibration_id: int | None
    next_pack: str | None
    next_threshold: float | None
    next_calibration_id: int | None
    migration_ends_at: str | None


class PurposeResponse(BaseModel):
    purpose: PurposeOut


class PurposeDetail(BaseModel):
    purpose: PurposeOut
    activation_warnings: list[str]


class ActivatedOut(BaseModel):
    purpose: PurposeOut
    warnings: list[str]


class PurposesList(BaseModel):
    purposes: list[PurposeOut]


class NoticeOut(BaseModel):
    purpose_key: str
    version: int
    #: item -> {"zh": ..., "en": ...}: the deployer's words, added to what is generated
    #: from the purpose's records
    content: dict[str, Words]
    published_at: str


class NoticeResponse(BaseModel):
    notice: NoticeOut


class PublicNotice(BaseModel):
    purpose: str
    alternatives: list[AlternativeWords]
    #: the notice as people read it: language -> item -> paragraphs, generated from the
    #: purpose's records, then the published notice's own words
    text: dict[str, dict[str, list[str]]]
    notice: NoticeOut | None


class AssessmentOut(BaseModel):
    id: int
    purpose_key: str
    #: item -> {"zh": ..., "en": ...}
    content: dict[str, Words]
    method_fingerprint: str
    signed_by: str
    signed_at: str
    stale_since: str | None
    stale_reason: str | None


class AssessmentResponse(BaseModel):
    assessment: AssessmentOut


class KeyOut(BaseModel):
    id: str
    role: str
    label: str
    purposes: list[str] | None
    sites: list[str] | None
    subject: str | None
    created_at: str
    revoked_at: str | None


class KeyIssued(BaseModel):
    key: KeyOut
    #: the key's secret: in this response only
    secret: str


class KeyResponse(BaseModel):
    key: KeyOut


class StaffOut(BaseModel):
    id: str
    name: str
    display_name: str
    role: str
    #: how reviews and audit entries name the account: ``staff:<name>``
    principal: str
    purposes: list[str] | None
    sites: list[str] | None
    created_by: str
    created_at: str
    disabled_at: str | None


class StaffAdded(BaseModel):
    account: StaffOut
    #: the TOTP secret (base32) and its ``otpauth://`` URI: in this response only
    totp_secret: str
    provisioning_uri: str


class StaffResponse(BaseModel):
    account: StaffOut


class StaffPage(BaseModel):
    accounts: list[StaffOut]


class KeysPage(BaseModel):
    keys: list[KeyOut]
    #: pass as ``cursor`` for the next page; ``null`` on the last
    next_cursor: str | None


# -- subjects and consent ---------------------------------------------------------------

class SubjectOut(BaseModel):
    id: str
    external_ref: str | None
    birth_date: str | None
    age_band: str | None
    registered_at: str


class SubjectResponse(BaseModel):
    subject: SubjectOut


class SubjectsPage(BaseModel):
    subjects: list[SubjectOut]
    next_cursor: str | None


class ConsentOut(BaseModel):
    subject_id: str
    purpose_key: str
    scope: str
    kind: str
    notice_version: int | None
    method: str
    separate: bool
    given_by: str
    guardian_name: str | None
    guardian_relation: str | None
    operator: str
    recorded_at: str
    seq: int


class ConsentRecorded(BaseModel):
    consent: ConsentOut
    #: the subject's own token (role ``subject``): in this response only
    subject_token: str
    withdraw: str


class WithdrawalOut(BaseModel):
    withdrawn: ConsentOut
    templates_deleted: int
    images_deleted: int


class DeclineOut(BaseModel):
    route_to_alternative: bool
    purpose: str
    alternatives: list[AlternativeWords]


class AlternativeOutcomeOut(BaseModel):
    id: int
    purpose_key: str
    subject_id: str | None
    method: str
    result: str
    operator: str
    recorded_at: str


class AlternativeOut(BaseModel):
    outcome: AlternativeOutcomeOut


class AccessReportOut(BaseModel):
    #: everything held about the subject (templates as metadata, never vectors)
    report: dict[str, Any]


class ErasureReceiptOut(BaseModel):
    subject_id: str
    seq: int
    at: str
    templates: int
    images: int
    consents: int
    data_key_destroyed: bool
    kek_rotated: bool


class ErasureOut(BaseModel):
    erasure: ErasureReceiptOut


# -- biometrics -------------------------------------------------------------------------

class ModelInfo(BaseModel):
    pack: str
    version: str


class EnrollOut(BaseModel):
    subject: str
    purpose: str
    template: str
    expires_at: str
    new_individual: bool
    image_retained: bool
    model: ModelInfo | None


class VerifyOut(BaseModel):
    subject: str
    purpose: str
    matched: bool
    #: ``false``: the probe's quality lies outside what the threshold's calibration
    #: measured, so no decision was made (``matched`` is then ``false``)
    decided: bool
    #: the quality reasons outside the calibration's measured range
    quality: list[str]
    distance: float | None
    threshold: float | None
    templates: int
    model: ModelInfo | None


class BoxOut(BaseModel):
    left: int
    top: int
    right: int
    bottom: int


class FalseMatchRateOut(BaseModel):
    """The false-match rate a distance corresponds to on the purpose's calibration.
    ``value`` is never a bare 0: where no different-person pair of the calibration lay at
    or below the distance, it is the 95% interval's upper bound and ``upper_bound`` is
    true."""

    value: float
    upper_bound: bool
    ci95: list[float]
    false_matches: int
    pairs: int
    calibration: str
    text: dict[str, str]


class CandidateOut(BaseModel):
    subject: str
    distance: float
    similarity: float
    #: the false-match rate at this distance on the purpose's calibration, with its interval
    fmr: FalseMatchRateOut | None
    review_case: str | None
    model: ModelInfo | None


class FaceOut(BaseModel):
    face: int
    box: BoxOut
    no_match: bool
    candidates: list[CandidateOut]


class IdentifyOut(BaseModel):
    purpose: str
    session: str | None
    no_match: bool
    threshold: float | None
    gallery_size: int
    faces: list[FaceOut]
    models: list[ModelInfo | None]


class ChallengeOut(BaseModel):
    challenge: str
    nonce: str
    purpose: str
    actions: list[str]
    expires_at: str


class LivenessResultOut(BaseModel):
    passed: bool
    actions_asked: list[str]
    actions_seen: list[str]
    scores: dict[str, Any]
    reasons: list[str]


class LivenessOut(BaseModel):
    passed: bool
    receipt: str
    expires_at: str
    result: LivenessResultOut


# -- oversight --------------------------------------------------------------------------

class ReviewSettingsOut(BaseModel):
    purpose_key: str
    window_seconds: int
    configured_by: str
    configured_at: str
    #: distinct reviewers who confirm a hit (null: the jurisdiction's minimum, for a review
    #: configured before the number could be chosen)
    reviewers: int | None = None
    #: whoever registered the purpose or ran the identification may not decide its cases
    bar_own: bool = False


class ReviewSettingsResponse(BaseModel):
    review: ReviewSettingsOut


class ReviewerOut(BaseModel):
    purpose: str
    reviewer: str


class DecisionOut(BaseModel):
    reviewer: str
    verdict: str
    reason: str
    at: str


class CaseOut(BaseModel):
    id: str
    session_id: str
    purpose_key: str
    face: int
    subject_id: str
    distance: float
    status: str
    reviewers_required: int
    created_at: str
    deadline: str
    decided_at: str | None
    decisions: list[DecisionOut]
    confirmations: int


class CaseResponse(BaseModel):
    case: CaseOut




class CaseImagesOut(BaseModel):
    """Where an authorised reviewer opens the case's faces (image/jpeg, not cached)."""

    probe: str
    reference: str | None


class CaseEvidenceOut(BaseModel):
    fmr: FalseMatchRateOut | None
    reference: bool
    instead: dict[str, str] | None
    images: CaseImagesOut


class CaseDetail(BaseModel):
    case: CaseOut
    evidence: CaseEvidenceOut


class CasesPage(BaseModel):
    cases: list[CaseOut]
    next_cursor: str | None


class AuditCheck(BaseModel):
    intact: bool
    entries: int
    head: str
    checkpoint_seq: int


class AuditEntry(BaseModel):
    name: str
    at: str
    operator: str
    outcome: str
    purpose_key: str | None
    subject_id: str | None
    rule: str | None
    detail: dict[str, Any]
    seq: int


class AuditPage(BaseModel):
    events: list[AuditEntry]
    #: pass as ``after`` for the next page; ``null`` on the last
    next_after: int | None


class FilingRecordOut(BaseModel):
    id: int
    kind: str
    jurisdiction: str
    individuals: int
    threshold: int | None
    triggered_on: str
    due_on: str | None
    reason: str
    content: dict[str, Any]
    created_at: str


class FilingOut(BaseModel):
    individuals: int
    threshold: int | None
    warning_at: int | None
    records: list[FilingRecordOut]
    filed: bool


class FilingResponse(BaseModel):
    filing: FilingOut


# -- events -----------------------------------------------------------------------------

class OutboxOut(BaseModel):
    pending: int
    delivered: int
    failed: int


class WebhookOut(BaseModel):
    id: str
    url: str
    label: str
    audience: str
    types: list[str] | None
    purposes: list[str] | None
    sites: list[str] | None
    created_at: str
    revoked_at: str | None
    outbox: OutboxOut | None = None


class WebhookCreated(BaseModel):
    webhook: WebhookOut
    #: the secret that signs the endpoint's deliveries: in this response only
    secret: str


class WebhookRevoked(BaseModel):
    webhook: WebhookOut


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class EventOut(BaseModel):
    id: str
    type: str
    occurred_at: str
    audit_seq: int
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    #: pass as ``after`` for the next page; ``null`` when the feed is read to its end
    next_after: int | None


class CameraOut(BaseModel):
    """A camera and its stream: the source only redacted, counts only, never a picture."""

    id: str
    site: str
    purposes: list[str]
    mode: str
    placement: str
    label: str
    signage: str | None
    source: str | None
    state: str
    session: str | None
    counts: dict[str, Any]
    error: str | None


class CameraResponse(BaseModel):
    camera: CameraOut


class CameraList(BaseModel):
    cameras: list[CameraOut]


class CameraStopped(BaseModel):
    camera: CameraOut
    session: str | None
    counts: dict[str, Any] | None


class ClaimOut(BaseModel):
    """A claimed identity waiting at a verification camera: its id (named by the
    ``door.open`` or ``door.refused`` event that decides it), the camera and purpose,
    and for how many seconds it waits for a face."""

    id: str
    camera: str
    purpose: str
    window: float


class ClaimResponse(BaseModel):
    claim: ClaimOut
