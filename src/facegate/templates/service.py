"""Enrollment: turn a granted image into a stored template, and nothing more.

The image is decoded and processed in memory; only the sealed descriptor is
kept (R10), unless the grant allows keeping the image (separate
``retain_image`` consent), in which case it is sealed too. The caller must
hold an ``enroll`` :class:`~facegate.policy.decision.Grant` for exactly this
purpose and subject, and owns the transaction, so the template, its consent
link and its audit entry commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..analysis import FaceAnalyzer
from ..engine.faces import Descriptor
from ..errors import (
    FaceQualityTooLow,
    GalleryPackMismatch,
    GrantInvalid,
    MultipleFaces,
    NoFaceFound,
)
from ..images import Image, ImageSource
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from ..quality import QualityReason
from ..storage.connection import Connection
from .images import store_image
from .keys import DataKeys
from .store import has_templates, insert_templates

__all__ = ["Enrollment", "EnrollmentProbe", "check_pack", "describe_enrollment", "enroll"]


@dataclass(frozen=True, slots=True)
class Enrollment:
    """What an enrollment stored: no vector, just the facts."""

    subject_id: str
    purpose_key: str
    pack: str
    expires_at: datetime
    new_individual: bool
    template_uid: str = ""
    image_uid: str | None = None


def _descriptor(analyzer: FaceAnalyzer, picture: Image) -> Descriptor:
    report = analyzer.assess_single(picture)
    if QualityReason.NO_FACE in report.reasons:
        raise NoFaceFound("no face was found in the image")
    if QualityReason.MULTIPLE_FACES in report.reasons:
        raise MultipleFaces("more than one face of similar size; crop the photo to one face")
    if not report.passed or report.face is None:
        raise FaceQualityTooLow(
            "the face is not good enough to enroll: " +
            "; ".join(i.message for i in report.issues),
            details={"reasons": [r.value for r in report.reasons]})
    face = analyzer.engine.embed(picture, [report.face])[0]
    assert face.descriptor is not None
    return face.descriptor


@dataclass(frozen=True, slots=True)
class EnrollmentProbe:
    """The engine's part of an enrollment, done before the store is locked: the decoded
    image and its one good face's descriptor (in memory only)."""

    picture: Image
    descriptor: Descriptor


def describe_enrollment(grant: Grant, *, analyzer: FaceAnalyzer, image: ImageSource | Image,
                        purpose: Purpose, subject_id: str) -> EnrollmentProbe:
    """Decode the image, check its quality and compute the descriptor, under ``grant``.

    Raises:
        GrantInvalid: the grant is not for enrolling this subject for this purpose.
        FaceError: no usable face (none, several, or poor quality).
    """
    grant.ensure_covers(Operation.ENROLL, purpose_key=purpose.key, subject_id=subject_id)
    picture = analyzer.load(image)
    return EnrollmentProbe(picture=picture, descriptor=_descriptor(analyzer, picture))


def check_pack(purpose: Purpose, descriptor: Descriptor, now: datetime) -> None:
    """A purpose's gallery takes only templates of the pack it enrolls with.

    Raises:
        GalleryPackMismatch: the descriptor comes from another pack.
    """
    wanted = purpose.enrolling_pack()
    if descriptor.pack != wanted:
        raise GalleryPackMismatch(
            f"the gallery of {purpose.key} holds {wanted} templates; a {descriptor.pack} "
            "template cannot join it (galleries never mix packs)",
            details={"purpose": purpose.key, "pack": wanted, "offered": descriptor.pack})


def enroll(grant: Grant, *, conn: Connection, keys: DataKeys, analyzer: FaceAnalyzer,
           image: ImageSource | Image, purpose: Purpose, subject_id: str, now: datetime,
           consent_seq: int | None, retain_image: bool = False,
           described: EnrollmentProbe | None = None) -> Enrollment:
    """Check quality, compute the descriptor and store it, sealed, for ``purpose``.

    Args:
        consent_seq: the consent event the template rests on.
        retain_image: keep the image too (sealed); the grant must allow it (R10).
        described: the image and descriptor from :func:`describe_enrollment`, when the
            engine already ran; otherwise it runs now.

    Raises:
        GrantInvalid: the grant is not for enrolling this subject for this purpose, or
            does not allow keeping the image.
        FaceError: no usable face (none, several, or poor quality).
    """
    grant.ensure_covers(Operation.ENROLL, purpose_key=purpose.key, subject_id=subject_id)
    if retain_image and not grant.retain_image:
        raise GrantInvalid("the grant does not allow keeping the image",
                           details={"rule": "R10"})
    if described is None:
        described = describe_enrollment(grant, analyzer=analyzer, image=image, purpose=purpose,
                                        subject_id=subject_id)
    picture, descriptor = described.picture, described.descriptor
    check_pack(purpose, descriptor, now)
    new_individual = not has_templates(conn, subject_id=subject_id)
    expires = now + timedelta(days=purpose.retention_days)
    (uid,) = insert_templates(conn, keys=keys, consent_seq=consent_seq, rows=[
        (subject_id, purpose.key, purpose.site_key, descriptor, now, expires)])
    image_uid = None
    if retain_image:
        image_uid = store_image(conn, keys=keys, image=picture, template_uid=uid,
                                subject_id=subject_id, purpose_key=purpose.key, now=now,
                                expires_at=expires)
    return Enrollment(subject_id=subject_id, purpose_key=purpose.key, pack=descriptor.pack,
                      expires_at=expires, new_individual=new_individual, template_uid=uid,
                      image_uid=image_uid)
