"""Every error code's message in each language.

An error's English message is written where it is raised and names what went wrong
in full. In another language the message is the code's template here, translated
in the catalog, with the error's ``details`` filled in: a code may have several
templates, and the first whose placeholders the details all hold is used (the last
has none). Codes, details, rules and HTTP statuses are the same in every language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ..errors import Error
from . import DEFAULT, N_, translate

__all__ = ["ERROR_MESSAGES", "error_message"]

#: Templates per error code, most specific first (``%(name)s``: ``details["name"]``).
ERROR_MESSAGES: Final[dict[str, tuple[str, ...]]] = {
    "error": (N_("Internal error; the request id is in the service's log."),),
    "image.invalid": (N_("The image cannot be used."),),
    "image.empty": (N_("The image is empty."),),
    "image.undecodable": (N_("The image cannot be decoded."),),
    "image.unsupported_format": (N_("The image format is not supported."),),
    "image.too_large": (N_("The image is too large."),),
    "image.invalid_array": (N_("The image array has the wrong shape or type."),),
    "image.not_found": (N_("The image file was not found."),),
    "image.truncated": (N_("The image file is cut off before its end."),),
    "video.invalid": (N_("The video cannot be used."),),
    "video.undecodable": (N_("The video cannot be decoded."),),
    "video.too_large": (N_("The video is too large."),),
    "video.too_long": (N_("The video is too long."),),
    "video.not_found": (N_("The video file was not found."),),
    "video.decoder_missing": (N_("No video decoder is installed."),),
    "face.invalid": (N_("The image holds no usable face."),),
    "face.not_found": (N_("No face was found in the image."),),
    "face.multiple": (N_("The image holds more than one face."),),
    "face.quality": (N_("The face is not clear enough."),),
    "model.error": (N_("The model pack cannot be used."),),
    "model.unknown": (N_("Unknown model pack: %(pack)s."), N_("Unknown model pack.")),
    "model.missing": (N_("The model pack %(pack)s is not installed."),
                      N_("The model pack is not installed.")),
    "model.mismatch": (N_("The face descriptors come from different model packs."),),
    "gallery.pack_mismatch": (N_("The template was made with another model pack than the "
                                 "purpose's gallery."),),
    "model.invalid_format": (N_("A model file has an invalid format."),),
    "model.integrity": (N_("A model file does not have its pinned hash; nothing was "
                           "installed."),),
    "model.install_failed": (N_("The model pack could not be installed."),),
    "argument.invalid": (N_("Invalid argument: %(field)s."), N_("An argument is invalid.")),
    "access.error": (N_("This request is not allowed."),),
    "auth.missing": (N_("Please sign in."),),
    "auth.invalid": (N_("The key is not valid or has been revoked."),),
    "auth.forbidden": (N_("Your role or scope does not allow this."),),
    "rate.limited": (N_("Too many requests; try again in %(retry_after)s seconds."),
                     N_("Too many requests; try again later.")),
    "request.invalid": (N_("The request is invalid."),),
    "request.too_large": (N_("The request body exceeds %(limit)s bytes."),
                          N_("The request body is too large.")),
    "request.not_found": (N_("No such page or endpoint."),),
    "request.method_not_allowed": (N_("This method is not allowed here."),),
    "request.unsupported_media_type": (N_("The request's content type is not supported."),),
    "service.not_ready": (N_("The service is not ready yet."),),
    "request.idempotency_conflict": (N_("The idempotency key was used for a different "
                                        "request."),),
    "policy.refused": (N_("Refused by rule %(rule)s."), N_("Refused by policy.")),
    "purpose.not_registered": (N_("The purpose %(purpose)s is not registered."),
                               N_("The purpose is not registered.")),
    "purpose.not_active": (N_("The purpose %(purpose)s is not active."),
                           N_("The purpose is not active.")),
    "purpose.mode_not_allowed": (N_("The purpose does not allow this mode."),),
    "purpose.incomplete": (N_("The purpose's registration is incomplete."),),
    "consent.missing": (N_("There is no valid separate consent for this purpose."),),
    "consent.withdrawn": (N_("The consent for this purpose was withdrawn."),),
    "consent.invalid": (N_("The consent is not valid."),),
    "consent.guardian_missing": (N_("A parent's or guardian's consent is required."),),
    "notice.incomplete": (N_("Missing text in a required language: %(fields)s."),
                          N_("The notice is incomplete.")),
    "document.inconsistent": (N_("The document contradicts the purpose's records: "
                                 "%(fields)s."),
                              N_("The document contradicts the purpose's records.")),
    "alternative.missing": (N_("The purpose needs a non-biometric alternative."),),
    "alternative.unavailable": (N_("The non-biometric alternative is not available."),),
    "transfer.not_permitted": (N_("This transfer of face data is not permitted."),),
    "retention.over_cap": (N_("The retention period exceeds the allowed maximum."),),
    "image.retention_refused": (N_("Keeping the face image is not permitted."),),
    "analysis.prohibited": (N_("This analysis of faces is prohibited."),),
    "site.private_space": (N_("Face recognition is not allowed in a private space."),),
    "site.public_place_unmet": (N_("The public place's requirements are not met."),),
    "gallery.cross_purpose": (N_("A gallery cannot be shared across purposes."),),
    "assessment.missing": (N_("A current, signed impact assessment is required."),),
    "calibration.missing": (N_("Identification needs a calibrated threshold for the "
                               "purpose."),),
    "assessment.retained": (N_("The impact assessment must be kept for its retention "
                               "period."),),
    "research.production_data": (N_("Research may not use production data."),),
    "policy.grant_invalid": (N_("The grant for this operation is not valid."),),
    "review.not_confirmed": (N_("The hit has not been confirmed by enough reviewers."),),
    "review.same_reviewer": (N_("The same reviewer cannot decide a case twice."),),
    "review.reviewer_barred": (N_("Whoever registered the purpose or ran the identification may "
                                  "not decide its cases."),),
    "review.reviewer_not_authorised": (N_("You are not authorised to review this "
                                          "purpose."),),
    "liveness.required": (N_("The purpose requires a passed liveness check."),),
    "camera.purpose_elsewhere": (N_("A camera may serve only purposes at its own site."),),
    "liveness.error": (N_("The liveness answer cannot be accepted."),),
    "liveness.failed": (N_("The liveness check did not pass."),),
    "liveness.challenge_unknown": (N_("Unknown liveness challenge."),),
    "liveness.challenge_used": (N_("The liveness challenge was already answered."),),
    "liveness.challenge_expired": (N_("The liveness challenge has expired."),),
    "liveness.over_budget": (N_("The liveness answer asks for too much work."),),
    "registry.error": (N_("The deployment's records do not allow this."),),
    "registry.not_found": (N_("Not found."),),
    "processor.not_registered": (N_("No processor is registered."),),
    "site.not_found": (N_("The site %(site)s was not found."), N_("The site was not found.")),
    "subject.not_found": (N_("The subject was not found."),),
    "assessment.not_found": (N_("The impact assessment was not found."),),
    "consent.not_found": (N_("There is no consent to act on."),),
    "review.case_not_found": (N_("The review case was not found."),),
    "camera.not_found": (N_("The camera %(camera)s was not found."),
                         N_("The camera was not found.")),
    "registry.conflict": (N_("It is already registered."),),
    "review.closed": (N_("The review case is closed."),),
    "review.images_closed": (N_("The faces of a decided or expired review case are no longer "
                                "shown."),),
    "review.no_reference": (N_("No reference photo was kept for this candidate; check against "
                               "the purpose's alternative or an ID document."),),
    "camera.stream_conflict": (N_("The camera's stream cannot be started or stopped as "
                                  "asked."),),
    "storage.error": (N_("The store cannot be used."),),
    "storage.busy": (N_("The store is busy; try again."),),
    "storage.schema_too_new": (N_("The store was written by a newer facegate."),),
    "storage.keys_required": (N_("The store's keys are required."),),
    "storage.not_found": (N_("No store was found."),),
    "storage.upgrade_required": (N_("The store must be upgraded first."),),
    "storage.tampered": (N_("The store was altered: %(table)s."),
                         N_("The store was altered.")),
    "audit.chain_broken": (N_("The audit chain is broken at entry %(seq)s."),
                           N_("The audit chain is broken.")),
    "crypto.error": (N_("Encryption failed."),),
    "crypto.invalid": (N_("Sealed data does not open."),),
    "crypto.key_missing": (N_("An encryption key is missing."),),
    "crypto.key_file_insecure": (N_("The key file's permissions are not safe."),),
    "filing.calendar_unavailable": (N_("The working-day calendar does not cover this "
                                       "date."),),
    "report.error": (N_("The document cannot be produced."),),
    "report.not_applicable": (N_("This document does not apply under the jurisdiction "
                                 "profile."),),
    "report.renderer_missing": (N_("The document renderer is not installed."),),
    "report.font_missing": (N_("No installed font can show some of the characters: "
                               "%(missing)s."),
                            N_("No installed font can show some of the characters.")),
}

_PLACEHOLDER: Final = re.compile(r"%\((\w+)\)s")


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def error_message(error: Error, lang: str) -> str:
    """``error``'s message in ``lang``: as raised in English, else its code's template."""
    if lang == DEFAULT:
        return error.message
    return code_message(error.code, error.details, lang) or error.message


def code_message(code: str, details: Mapping[str, Any], lang: str) -> str | None:
    """The first template of ``code`` whose placeholders ``details`` hold, in ``lang``."""
    for template in ERROR_MESSAGES.get(code, ()):
        names = _PLACEHOLDER.findall(template)
        if all(details.get(n) not in (None, "", [], ()) for n in names):
            return translate(template, lang, **{n: _value(details[n]) for n in names})
    return None
