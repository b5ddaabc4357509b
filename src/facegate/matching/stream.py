"""The engine's part of a camera's stream, each step behind the stream session's grant.

A stream session (:mod:`facegate.deployment.streams`) holds one grant per purpose,
minted when the stream started (``identify``, or ``verify`` for a verification camera),
for finding faces and describing a track's shot for a search. Searching is
:func:`facegate.matching.service.identify`, given what these functions computed. A
verification camera describes a track's shot only under a grant for the claimed
subject (:func:`describe_claimed`), compared by :func:`facegate.matching.service.verify`.
"""

from __future__ import annotations

from ..analysis import FaceAnalyzer
from ..engine.base import DetectOptions
from ..engine.faces import Face
from ..errors import GrantInvalid
from ..images import Image
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from .service import Probe

__all__ = ["describe_claimed", "describe_faces", "find_faces"]


def find_faces(grant: Grant, *, analyzer: FaceAnalyzer, purpose_key: str, image: Image,
               options: DetectOptions) -> list[Face]:
    """Every face of a frame, largest first (boxes and landmarks, no descriptor)."""
    if grant.operation not in (Operation.IDENTIFY, Operation.VERIFY) or \
            grant.purpose_key != purpose_key or grant.subject_id is not None:
        raise GrantInvalid(
            f"finding faces on a camera's stream needs its session's grant "
            f"for {purpose_key}",
            details={"rule": "R1", "granted": list(grant.facts()[:3])})
    return analyzer.detect(image, options=options)


def describe_faces(grant: Grant, *, analyzer: FaceAnalyzer, purpose: Purpose, image: Image,
                   faces: list[Face]) -> list[Face]:
    """``faces`` of ``image`` with their descriptors, for a search of ``purpose``'s gallery."""
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    return [f for f in analyzer.embed_faces(image, faces) if f.descriptor is not None]


def describe_claimed(grant: Grant, *, analyzer: FaceAnalyzer, purpose: Purpose,
                     subject_id: str, image: Image, face: Face) -> Probe | None:
    """The descriptor and quality measures of ``face`` of ``image`` (a track's shot), for
    a 1:1 comparison with the claimed subject ``subject_id``; ``None`` when the face
    cannot be described."""
    grant.ensure_covers(Operation.VERIFY, purpose_key=purpose.key, subject_id=subject_id)
    described = [f for f in analyzer.embed_faces(image, [face]) if f.descriptor is not None]
    if not described:
        return None
    report = analyzer.assess_face(image, described[0])
    assert described[0].descriptor is not None
    return Probe(descriptor=described[0].descriptor, metrics=report.metrics)
