"""The engine's part of a camera's stream, each step behind the stream session's grant.

A stream session (:mod:`facegate.deployment.streams`) holds one grant per purpose,
minted when the stream started (``identify``), for finding faces and describing a
track's shot for a search. Searching is
:func:`facegate.matching.service.identify`, given what these functions computed.
"""

from __future__ import annotations

from ..analysis import FaceAnalyzer
from ..engine.base import DetectOptions
from ..engine.faces import Face
from ..errors import GrantInvalid
from ..images import Image
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose

__all__ = ["describe_faces", "find_faces"]


def find_faces(grant: Grant, *, analyzer: FaceAnalyzer, purpose_key: str, image: Image,
               options: DetectOptions) -> list[Face]:
    """Every face of a frame, largest first (boxes and landmarks, no descriptor)."""
    if grant.operation is not Operation.IDENTIFY or \
            grant.purpose_key != purpose_key or grant.subject_id is not None:
        raise GrantInvalid(
            f"finding faces on a camera's stream needs its session's identify grant "
            f"for {purpose_key}",
            details={"rule": "R1", "granted": list(grant.facts()[:3])})
    return analyzer.detect(image, options=options)


def describe_faces(grant: Grant, *, analyzer: FaceAnalyzer, purpose: Purpose, image: Image,
                   faces: list[Face]) -> list[Face]:
    """``faces`` of ``image`` with their descriptors, for a search of ``purpose``'s gallery."""
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    return [f for f in analyzer.embed_faces(image, faces) if f.descriptor is not None]
