"""Verification (1:1) and identification (1:N), each behind a grant.

Comparison is :func:`facegate.comparison.compare_descriptors`; the decision
distance is the purpose's threshold, or the model pack's calibrated default.
Only unexpired templates of the granted purpose are searched: a purpose's
gallery never serves another purpose (R2, R13). Identification answers every
face in the probe, each with its candidates or ``no_match``; the search runs on
the purpose's in-memory gallery index (:mod:`facegate.matching.gallery`,
:mod:`facegate.matching.index`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..analysis import FaceAnalyzer
from ..comparison import compare_descriptors
from ..engine.faces import Box
from ..errors import InvalidArgument, NoFaceFound
from ..images import Image, ImageSource
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from ..templates.keys import DataKeys
from ..templates.store import list_templates
from .gallery import Galleries
from .search import nearest_subjects

__all__ = ["Candidate", "FaceIdentification", "Identification", "Verification", "identify",
           "verify"]


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to "is this the enrolled subject?" for one purpose."""

    subject_id: str
    purpose_key: str
    matched: bool
    distance: float | None
    threshold: float | None
    templates: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A gallery subject within the threshold of the probe.

    ``review_case`` names the review case the hit became, for a purpose
    configured for human review (R19); it cannot be acted on until confirmed.
    """

    subject_id: str
    distance: float
    similarity: float
    review_case: str | None = None


@dataclass(frozen=True, slots=True)
class FaceIdentification:
    """The answer for one face of the probe: its candidates, or no match."""

    face: int
    box: Box
    candidates: tuple[Candidate, ...]

    @property
    def no_match(self) -> bool:
        return not self.candidates


@dataclass(frozen=True, slots=True)
class Identification:
    """The answer to "who is this?" within one purpose's gallery, one entry per face.

    ``faces`` are ordered largest first. ``candidates`` is the single-face
    convenience: the candidates of the largest face. ``no_match`` is true when
    no face of the probe has a candidate. ``session_id`` and ``probe_ref`` name
    the identification session in the audit log (R20).
    """

    purpose_key: str
    faces: tuple[FaceIdentification, ...]
    threshold: float | None
    gallery_size: int
    session_id: str | None = None
    probe_ref: str | None = None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.faces[0].candidates if self.faces else ()

    @property
    def no_match(self) -> bool:
        return all(f.no_match for f in self.faces)


def verify(grant: Grant, *, conn: sqlite3.Connection, keys: DataKeys, analyzer: FaceAnalyzer,
           image: ImageSource | Image, purpose: Purpose, subject_id: str,
           now: datetime) -> Verification:
    """Compare the probe's face with the subject's templates for ``purpose``."""
    grant.ensure_covers(Operation.VERIFY, purpose_key=purpose.key, subject_id=subject_id)
    stored = list_templates(conn, keys=keys, purpose_key=purpose.key, subject_id=subject_id,
                            now=now)
    if not stored:
        return Verification(subject_id=subject_id, purpose_key=purpose.key, matched=False,
                            distance=None, threshold=purpose.threshold, templates=0)
    probe = analyzer.embed_single(image).descriptor
    assert probe is not None
    best = min((compare_descriptors(probe, t.descriptor, threshold=purpose.threshold)
                for t in stored), key=lambda c: c.distance)
    return Verification(subject_id=subject_id, purpose_key=purpose.key,
                        matched=best.same_person, distance=best.distance,
                        threshold=best.threshold, templates=len(stored))


def identify(grant: Grant, *, conn: sqlite3.Connection, keys: DataKeys,
             analyzer: FaceAnalyzer,
             image: ImageSource | Image, purpose: Purpose, now: datetime,
             limit: int = 5, galleries: Galleries | None = None) -> Identification:
    """Search ``purpose``'s gallery for every face of the probe; up to ``limit`` candidates
    within the threshold per face.

    Args:
        galleries: the deployment's in-memory indexes; without it one is built for this call.

    Raises:
        NoFaceFound: the probe holds no face.
    """
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    pack = analyzer.pack
    threshold = pack.default_threshold if purpose.threshold is None else purpose.threshold
    if not 0.0 < threshold < 2.0:
        raise InvalidArgument("threshold must lie between 0 and 2",
                              details={"threshold": threshold})
    faces = [f for f in analyzer.embed(image) if f.descriptor is not None]
    if not faces:
        raise NoFaceFound("no face was found in the image")
    index = (galleries or Galleries()).get(conn, keys=keys, purpose_key=purpose.key,
                                           pack=pack.id, pack_version=pack.version, now=now)
    probes = np.stack([f.descriptor.vector for f in faces if f.descriptor is not None])
    hits = nearest_subjects(index, probes, threshold=threshold, limit=limit, now=now)
    answers = tuple(
        FaceIdentification(face=n, box=face.box, candidates=tuple(
            Candidate(subject_id=s, distance=d, similarity=1.0 - d * d / 2.0) for s, d in found))
        for n, (face, found) in enumerate(zip(faces, hits, strict=True)))
    return Identification(purpose_key=purpose.key, faces=answers, threshold=threshold,
                          gallery_size=index.subject_count)
