"""Typed errors with stable dotted codes.

Every failure facegate reports is an instance of :class:`Error`. Each class
carries a stable ``code`` (the same in the library, the CLI, logs and, later,
the API) and the HTTP status an adapter should answer with. Callers catch the
class; machines read the code.

The hierarchy::

    Error                         (code "error")
    ├── ImageError                image input could not be used
    │   ├── ImageEmpty            image.empty
    │   ├── ImageUndecodable      image.undecodable
    │   │   └── ImageTruncated    image.truncated
    │   ├── ImageUnsupported      image.unsupported_format
    │   ├── ImageTooLarge         image.too_large
    │   ├── ImageInvalidArray     image.invalid_array
    │   └── ImageNotFound         image.not_found
    ├── VideoError                video input could not be used (a liveness answer)
    │   ├── VideoUndecodable      video.undecodable
    │   ├── VideoTooLarge         video.too_large
    │   ├── VideoTooLong          video.too_long
    │   ├── VideoNotFound         video.not_found
    │   └── VideoDecoderMissing   video.decoder_missing
    ├── FaceError                 the image holds no usable face
    │   ├── NoFaceFound           face.not_found
    │   ├── MultipleFaces         face.multiple
    │   └── FaceQualityTooLow     face.quality
    ├── ModelError                a model pack cannot be used
    │   ├── ModelPackUnknown      model.unknown
    │   ├── ModelPackMissing      model.missing
    │   ├── DescriptorMismatch    model.mismatch
    │   ├── GalleryPackMismatch   gallery.pack_mismatch
    │   ├── ModelFormatError      model.invalid_format
    │   ├── ModelIntegrityError   model.integrity
    │   └── ModelInstallFailed    model.install_failed
    ├── InvalidArgument           argument.invalid
    ├── AccessError               access.error: the caller may not make this request
    │   ├── Unauthenticated           auth.missing (no credential)
    │   ├── CredentialInvalid         auth.invalid (unknown or revoked key)
    │   ├── Forbidden                 auth.forbidden (role or scope)
    │   └── RateLimited               rate.limited
    ├── RequestError              request.invalid: an HTTP request that cannot be served
    │   ├── RequestTooLarge           request.too_large
    │   ├── RouteNotFound             request.not_found
    │   ├── MethodNotAllowed          request.method_not_allowed
    │   ├── MediaTypeUnsupported      request.unsupported_media_type
    │   ├── ServiceNotReady           service.not_ready
    │   └── IdempotencyConflict       request.idempotency_conflict
    ├── LivenessError             liveness.error: a liveness answer cannot be accepted
    │   ├── LivenessFailed            liveness.failed (details: scores, reasons)
    │   ├── ChallengeUnknown          liveness.challenge_unknown
    │   ├── ChallengeUsed             liveness.challenge_used
    │   ├── ChallengeExpired          liveness.challenge_expired
    │   └── LivenessOverBudget        liveness.over_budget
    ├── PolicyRefusal             policy.refused (details: rule, jurisdiction, article)
    │   ├── PurposeNotRegistered      purpose.not_registered          R1
    │   ├── PurposeNotActive          purpose.not_active              R1, R14
    │   ├── ModeNotAllowed            purpose.mode_not_allowed        R1
    │   ├── PurposeIncomplete         purpose.incomplete              R1
    │   ├── ConsentRequired           consent.missing                 R2
    │   │   └── ConsentWithdrawn      consent.withdrawn               R4
    │   ├── ConsentInvalid            consent.invalid                 R3
    │   ├── GuardianConsentRequired   consent.guardian_missing        R5
    │   ├── NoticeIncomplete          notice.incomplete               R6
    │   ├── DocumentInconsistent      document.inconsistent           R6, R14
    │   ├── AlternativeRequired       alternative.missing             R7
    │   ├── AlternativeUnavailable    alternative.unavailable         R7
    │   ├── TransferNotPermitted      transfer.not_permitted          R8
    │   ├── RetentionTooLong          retention.over_cap              R9
    │   ├── ImageRetentionRefused     image.retention_refused         R10
    │   ├── ProhibitedAnalysis        analysis.prohibited             R11
    │   ├── PrivateSpaceForbidden     site.private_space              R12
    │   ├── PublicPlaceRequirements   site.public_place_unmet         R13
    │   ├── CrossPurposeGallery       gallery.cross_purpose           R13
    │   ├── CalibrationRequired       calibration.missing             R21
    │   ├── AssessmentRequired        assessment.missing              R14
    │   ├── AssessmentRetained        assessment.retained             R14
    │   ├── ProductionDataRefused     research.production_data        R24
    │   ├── ReviewNotConfirmed        review.not_confirmed            R19
    │   ├── ReviewerRepeated          review.same_reviewer            R19
    │   ├── ReviewerNotAuthorised     review.reviewer_not_authorised  R19
    │   ├── ReviewerBarred            review.reviewer_barred          R19
    │   ├── LivenessRequired          liveness.required               H1
    │   ├── CameraPurposeElsewhere    camera.purpose_elsewhere        R1
    │   └── GrantInvalid              policy.grant_invalid
    ├── RegistryError             the deployment's records do not allow it
    │   ├── NotFound                  registry.not_found
    │   │   ├── ProcessorNotRegistered processor.not_registered
    │   │   ├── SiteNotFound          site.not_found
    │   │   ├── SubjectNotFound       subject.not_found
    │   │   ├── AssessmentNotFound    assessment.not_found
    │   │   ├── ConsentNotFound       consent.not_found
    │   │   ├── ReviewCaseNotFound    review.case_not_found
    │   │   ├── ReviewReferenceMissing review.no_reference
    │   │   └── CameraNotFound        camera.not_found
    │   ├── AlreadyRegistered         registry.conflict
    │   ├── ReviewCaseClosed          review.closed
    │   │   └── ReviewImagesClosed    review.images_closed            R19
    │   └── CameraStreamConflict      camera.stream_conflict
    ├── StorageError              storage.error
    │   ├── StoreBusy                 storage.busy
    │   ├── SchemaTooNew              storage.schema_too_new
    │   ├── StoreKeysRequired         storage.keys_required
    │   ├── StoreNotFound             storage.not_found
    │   ├── StoreUpgradeRequired      storage.upgrade_required
    │   ├── StoreTampered             storage.tampered                R15, R16
    │   │   └── AuditChainBroken      audit.chain_broken              R15
    │   └── CryptoError               crypto.error                    R16
    │       ├── CryptoInvalid         crypto.invalid (opaque: sealed data does not open)
    │       ├── KeyMissing            crypto.key_missing
    │       └── KeyFileInsecure       crypto.key_file_insecure
    ├── FilingCalendarUnavailable filing.calendar_unavailable
    └── ReportError               report.error: a regulator's document cannot be produced
        ├── ReportNotApplicable       report.not_applicable (e.g. R22's policy outside BIPA)
        ├── ReportRendererMissing     report.renderer_missing (jinja2 or weasyprint absent)
        └── ReportFontMissing         report.font_missing (no font for some characters)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AccessError",
    "AlreadyRegistered",
    "AlternativeRequired",
    "AlternativeUnavailable",
    "AssessmentNotFound",
    "AssessmentRequired",
    "AssessmentRetained",
    "AuditChainBroken",
    "CalibrationRequired",
    "CameraNotFound",
    "CameraPurposeElsewhere",
    "CameraStreamConflict",
    "ChallengeExpired",
    "ChallengeUnknown",
    "ChallengeUsed",
    "ConsentInvalid",
    "ConsentNotFound",
    "ConsentRequired",
    "ConsentWithdrawn",
    "CredentialInvalid",
    "CrossPurposeGallery",
    "CryptoError",
    "CryptoInvalid",
    "DescriptorMismatch",
    "DocumentInconsistent",
    "Error",
    "FaceError",
    "FaceQualityTooLow",
    "FilingCalendarUnavailable",
    "Forbidden",
    "GalleryPackMismatch",
    "GrantInvalid",
    "GuardianConsentRequired",
    "IdempotencyConflict",
    "ImageEmpty",
    "ImageError",
    "ImageInvalidArray",
    "ImageNotFound",
    "ImageRetentionRefused",
    "ImageTooLarge",
    "ImageTruncated",
    "ImageUndecodable",
    "ImageUnsupported",
    "InvalidArgument",
    "KeyFileInsecure",
    "KeyMissing",
    "LivenessError",
    "LivenessFailed",
    "LivenessOverBudget",
    "LivenessRequired",
    "MediaTypeUnsupported",
    "MethodNotAllowed",
    "ModeNotAllowed",
    "ModelError",
    "ModelFormatError",
    "ModelInstallFailed",
    "ModelIntegrityError",
    "ModelPackMissing",
    "ModelPackUnknown",
    "MultipleFaces",
    "NoFaceFound",
    "NotFound",
    "NoticeIncomplete",
    "PolicyRefusal",
    "PrivateSpaceForbidden",
    "ProcessorNotRegistered",
    "ProductionDataRefused",
    "ProhibitedAnalysis",
    "PublicPlaceRequirements",
    "PurposeIncomplete",
    "PurposeNotActive",
    "PurposeNotRegistered",
    "RateLimited",
    "RegistryError",
    "ReportError",
    "ReportFontMissing",
    "ReportNotApplicable",
    "ReportRendererMissing",
    "RequestError",
    "RequestTooLarge",
    "RetentionTooLong",
    "ReviewCaseClosed",
    "ReviewCaseNotFound",
    "ReviewImagesClosed",
    "ReviewNotConfirmed",
    "ReviewReferenceMissing",
    "ReviewerBarred",
    "ReviewerNotAuthorised",
    "ReviewerRepeated",
    "RouteNotFound",
    "SchemaTooNew",
    "ServiceNotReady",
    "SiteNotFound",
    "StorageError",
    "StoreBusy",
    "StoreKeysRequired",
    "StoreNotFound",
    "StoreTampered",
    "StoreUpgradeRequired",
    "SubjectNotFound",
    "TransferNotPermitted",
    "Unauthenticated",
    "VideoDecoderMissing",
    "VideoError",
    "VideoNotFound",
    "VideoTooLarge",
    "VideoTooLong",
    "VideoUndecodable",
    "all_error_classes",
    "error_class_for_code",
]


class Error(Exception):
    """Base of every facegate error.

    Args:
        message: one human-readable line.
        details: machine-readable context (never biometric data).
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of an error: code, message, details."""
        return {"code": self.code, "message": self.message, "details": self.details}


class ImageError(Error):
    code = "image.invalid"
    http_status = 422


class ImageEmpty(ImageError):
    code = "image.empty"


class ImageUndecodable(ImageError):
    code = "image.undecodable"


class ImageUnsupported(ImageError):
    code = "image.unsupported_format"
    http_status = 415


class ImageTooLarge(ImageError):
    code = "image.too_large"
    http_status = 413


class ImageInvalidArray(ImageError):
    code = "image.invalid_array"


class ImageNotFound(ImageError):
    code = "image.not_found"
    http_status = 404


class ImageTruncated(ImageUndecodable):
    """The file ends before its pixels do: cut off, or far shorter than its header's size."""

    code = "image.truncated"


class VideoError(Error):
    code = "video.invalid"
    http_status = 422


class VideoUndecodable(VideoError):
    """Not a video in an accepted container, corrupt or truncated, or without video frames."""

    code = "video.undecodable"


class VideoTooLarge(VideoError):
    """More bytes, or frames of more pixels, than the limits allow."""

    code = "video.too_large"
    http_status = 413


class VideoTooLong(VideoError):
    """Longer, or with more frames, than the limits allow."""

    code = "video.too_long"
    http_status = 413


class VideoNotFound(VideoError):
    code = "video.not_found"
    http_status = 404


class VideoDecoderMissing(VideoError):
    """No video decoder is installed (the ``video`` extra, PyAV)."""

    code = "video.decoder_missing"
    http_status = 501


class FaceError(Error):
    code = "face.invalid"
    http_status = 422


class NoFaceFound(FaceError):
    code = "face.not_found"


class MultipleFaces(FaceError):
    code = "face.multiple"


class FaceQualityTooLow(FaceError):
    code = "face.quality"


class ModelError(Error):
    code = "model.error"
    http_status = 500


class ModelPackUnknown(ModelError):
    code = "model.unknown"
    http_status = 400


class ModelPackMissing(ModelError):
    code = "model.missing"
    http_status = 503


class DescriptorMismatch(ModelError):
    code = "model.mismatch"
    http_status = 422


class GalleryPackMismatch(ModelError):
    """A template of another model pack was offered to a purpose's gallery."""

    code = "gallery.pack_mismatch"
    http_status = 409


class ModelFormatError(ModelError):
    code = "model.invalid_format"
    http_status = 500


class ModelIntegrityError(ModelError):
    """A model file or package does not have its pinned SHA-256; nothing was installed."""

    code = "model.integrity"
    http_status = 500


class ModelInstallFailed(ModelError):
    """Obtaining a pack failed (no npm client, registry unreachable, bad tarball)."""

    code = "model.install_failed"
    http_status = 500


class InvalidArgument(Error):
    code = "argument.invalid"
    http_status = 400


class AccessError(Error):
    """The caller may not make this request (the service's keys, roles and limits)."""

    code = "access.error"
    http_status = 403


class Unauthenticated(AccessError):
    code = "auth.missing"
    http_status = 401


class CredentialInvalid(AccessError):
    code = "auth.invalid"
    http_status = 401


class Forbidden(AccessError):
    """The key's role does not allow the action, or the purpose or site is outside its scope."""

    code = "auth.forbidden"
    http_status = 403


class RateLimited(AccessError):
    """Too many requests for one key; ``details.retry_after`` is in seconds."""

    code = "rate.limited"
    http_status = 429


class RequestError(Error):
    code = "request.invalid"
    http_status = 422


class RequestTooLarge(RequestError):
    code = "request.too_large"
    http_status = 413


class RouteNotFound(RequestError):
    code = "request.not_found"
    http_status = 404


class MethodNotAllowed(RequestError):
    code = "request.method_not_allowed"
    http_status = 405


class MediaTypeUnsupported(RequestError):
    code = "request.unsupported_media_type"
    http_status = 415


class ServiceNotReady(RequestError):
    code = "service.not_ready"
    http_status = 503


class IdempotencyConflict(RequestError):
    """An idempotency key was reused with a different request."""

    code = "request.idempotency_conflict"
    http_status = 409


class PolicyRefusal(Error):
    """A rule of the jurisdiction profile refused the operation.

    ``details`` always carry ``rule`` (e.g. ``"R2"``), ``jurisdiction`` (e.g.
    ``"cn-2025"``) and ``article`` (e.g. ``"Art. 6"``), plus every reason the
    policy gave under ``reasons``.
    """

    code = "policy.refused"
    http_status = 403

    @property
    def rule(self) -> str:
        return str(self.details.get("rule", ""))

    def citation(self) -> str:
        """``R2 cn-2025 Art. 6``: the rule, the profile and the article it enforces."""
        parts = [str(self.details.get(k, "")) for k in ("rule", "jurisdiction", "article")]
        return " ".join(p for p in parts if p)


class PurposeNotRegistered(PolicyRefusal):
    code = "purpose.not_registered"
    http_status = 404


class PurposeNotActive(PolicyRefusal):
    code = "purpose.not_active"
    http_status = 409


class ModeNotAllowed(PolicyRefusal):
    code = "purpose.mode_not_allowed"


class PurposeIncomplete(PolicyRefusal):
    code = "purpose.incomplete"
    http_status = 422


class ConsentRequired(PolicyRefusal):
    code = "consent.missing"


class ConsentWithdrawn(ConsentRequired):
    code = "consent.withdrawn"


class ConsentInvalid(PolicyRefusal):
    code = "consent.invalid"
    http_status = 422


class GuardianConsentRequired(PolicyRefusal):
    code = "consent.guardian_missing"


class NoticeIncomplete(PolicyRefusal):
    """A text people read is missing in a language the profile requires, or the notice
    lacks an item; ``details.fields`` names each (``purpose description/zh``)."""

    code = "notice.incomplete"
    http_status = 422


class DocumentInconsistent(PolicyRefusal):
    """A notice or an impact assessment would say something the purpose's records
    contradict (its method, the review of hits, retention, storage), leave one of them
    out, or tell a visitor to run a command; ``details.fields`` names each finding."""

    code = "document.inconsistent"
    http_status = 422


class AlternativeRequired(PolicyRefusal):
    code = "alternative.missing"
    http_status = 422


class AlternativeUnavailable(PolicyRefusal):
    code = "alternative.unavailable"


class TransferNotPermitted(PolicyRefusal):
    code = "transfer.not_permitted"


class RetentionTooLong(PolicyRefusal):
    code = "retention.over_cap"
    http_status = 422


class ImageRetentionRefused(PolicyRefusal):
    code = "image.retention_refused"


class ProhibitedAnalysis(PolicyRefusal):
    code = "analysis.prohibited"


class PrivateSpaceForbidden(PolicyRefusal):
    code = "site.private_space"
    http_status = 422


class PublicPlaceRequirements(PolicyRefusal):
    code = "site.public_place_unmet"
    http_status = 422


class CrossPurposeGallery(PolicyRefusal):
    code = "gallery.cross_purpose"


class AssessmentRequired(PolicyRefusal):
    code = "assessment.missing"
    http_status = 409


class CalibrationRequired(PolicyRefusal):
    """Identification needs a threshold calibrated on the purpose's population, with its pack."""

    code = "calibration.missing"
    http_status = 409


class AssessmentRetained(PolicyRefusal):
    code = "assessment.retained"
    http_status = 409


class ProductionDataRefused(PolicyRefusal):
    code = "research.production_data"


class GrantInvalid(PolicyRefusal):
    code = "policy.grant_invalid"


class ReviewNotConfirmed(PolicyRefusal):
    """A 1:N hit was acted on before enough distinct reviewers confirmed it (R19)."""

    code = "review.not_confirmed"
    http_status = 409


class ReviewerRepeated(PolicyRefusal):
    """A reviewer decided the same review case twice (R19)."""

    code = "review.same_reviewer"
    http_status = 409


class ReviewerNotAuthorised(PolicyRefusal):
    """A review decision by someone not authorised to review the purpose (R19)."""

    code = "review.reviewer_not_authorised"


class ReviewerBarred(PolicyRefusal):
    """A review decision by the account that created the case's purpose or ran the
    identification, where the purpose's review bars them (R19)."""

    code = "review.reviewer_barred"


class LivenessRequired(PolicyRefusal):
    """The purpose requires a passed liveness check and no usable receipt was given (H1)."""

    code = "liveness.required"


class CameraPurposeElsewhere(PolicyRefusal):
    """A camera may serve only purposes registered at its own site: the purpose's notice
    and impact assessment describe that site, not another (R1)."""

    code = "camera.purpose_elsewhere"
    http_status = 422


class LivenessError(Error):
    code = "liveness.error"
    http_status = 422


class LivenessFailed(LivenessError):
    """The frames did not show one live face doing the asked actions; ``details`` hold
    every score and reason."""

    code = "liveness.failed"
    http_status = 403


class ChallengeUnknown(LivenessError):
    code = "liveness.challenge_unknown"
    http_status = 404


class ChallengeUsed(LivenessError):
    """The challenge was answered before: a replayed answer."""

    code = "liveness.challenge_used"
    http_status = 409


class ChallengeExpired(LivenessError):
    code = "liveness.challenge_expired"
    http_status = 410


class LivenessOverBudget(LivenessError):
    """An answer asks for more work than one check may cost: too many pixels in all, or
    more than the check's time budget."""

    code = "liveness.over_budget"
    http_status = 413


class RegistryError(Error):
    code = "registry.error"
    http_status = 400


class NotFound(RegistryError):
    code = "registry.not_found"
    http_status = 404


class ProcessorNotRegistered(NotFound):
    code = "processor.not_registered"


class SiteNotFound(NotFound):
    code = "site.not_found"


class SubjectNotFound(NotFound):
    code = "subject.not_found"


class AssessmentNotFound(NotFound):
    code = "assessment.not_found"


class ConsentNotFound(NotFound):
    """There is no consent of the subject for the purpose (and scope) to act on."""

    code = "consent.not_found"


class ReviewCaseNotFound(NotFound):
    code = "review.case_not_found"


class ReviewReferenceMissing(NotFound):
    """No reference photo of the case's candidate was kept: no image was retained with
    its own consent (R10). The case says what to check against instead."""

    code = "review.no_reference"


class CameraNotFound(NotFound):
    code = "camera.not_found"


class AlreadyRegistered(RegistryError):
    code = "registry.conflict"
    http_status = 409


class ReviewCaseClosed(RegistryError):
    """A review case that is already confirmed, rejected or expired takes no more decisions."""

    code = "review.closed"
    http_status = 409


class ReviewImagesClosed(ReviewCaseClosed):
    """A case's faces are shown only while it waits for its decision: once it is
    confirmed, rejected or expired, its probe and reference are no longer opened (R19)."""

    code = "review.images_closed"
    http_status = 410


class CameraStreamConflict(RegistryError):
    """A camera's stream cannot be started or stopped as asked: it is already running (in
    this process or another), it is not running, or it has no stored source."""

    code = "camera.stream_conflict"
    http_status = 409


class StorageError(Error):
    code = "storage.error"
    http_status = 500


class StoreBusy(StorageError):
    """Another writer held the store's write lock for longer than the busy timeout."""

    code = "storage.busy"
    http_status = 503


class SchemaTooNew(StorageError):
    code = "storage.schema_too_new"


class StoreKeysRequired(StorageError):
    """A PostgreSQL store was opened with no key file given and the keys not in the
    environment (there is no file beside a URL to keep them in)."""

    code = "storage.keys_required"


class StoreNotFound(StorageError):
    """No store exists at the path (or the database holds none): only ``init`` creates one."""

    code = "storage.not_found"


class StoreUpgradeRequired(StorageError):
    """The store was written by an older facegate; a key holder upgrades it once, explicitly
    (``facegate store upgrade``)."""

    code = "storage.upgrade_required"


class StoreTampered(StorageError):
    """A protected row (template, consent event, audit entry) was altered, added, removed
    or left unsealed behind facegate's back; ``details`` name the table and the first bad
    row (R15, R16)."""

    code = "storage.tampered"


class AuditChainBroken(StoreTampered):
    """The audit log was altered; ``details.seq`` names the first broken entry (R15)."""

    code = "audit.chain_broken"


class CryptoError(StorageError):
    code = "crypto.error"


class CryptoInvalid(CryptoError):
    """Sealed data does not open: wrong key, wrong row, or altered bytes (one opaque error)."""

    code = "crypto.invalid"


class KeyMissing(CryptoError):
    code = "crypto.key_missing"


class KeyFileInsecure(CryptoError):
    code = "crypto.key_file_insecure"


class FilingCalendarUnavailable(Error):
    code = "filing.calendar_unavailable"
    http_status = 500


class ReportError(Error):
    """A document (notice, impact assessment, filing, access report...) cannot be produced."""

    code = "report.error"
    http_status = 500


class ReportNotApplicable(ReportError):
    """The document does not exist under the deployment's jurisdiction profile."""

    code = "report.not_applicable"
    http_status = 409


class ReportRendererMissing(ReportError):
    """``jinja2`` or ``weasyprint`` is not installed (the ``reports`` extra)."""

    code = "report.renderer_missing"
    http_status = 501


class ReportFontMissing(ReportError):
    """A PDF would show characters the machine has no font for (a Chinese document
    without a CJK font): refused rather than served with empty boxes.
    ``details.missing`` lists some of the characters."""

    code = "report.font_missing"
    http_status = 503


def error_class_for_code(code: str) -> type[Error]:
    """The error class whose ``code`` is ``code``; :class:`Error` when none is."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return Error


def all_error_classes() -> list[type[Error]]:
    """Every concrete error class, for documentation and its test."""
    seen: list[type[Error]] = []
    stack: list[type[Error]] = [Error]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.code)
