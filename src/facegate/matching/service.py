"""Verification (1:1) and identification (1:N), each behind a grant.

Comparison is :func:`facegate.comparison.compare_descriptors`; the decision
distance is the purpose's threshold, or the model pack's calibrated default.
Only unexpired templates of the granted purpose are searched: a purpose's
gallery never serves another purpose (R2, R13). Issue 6 replaces the exact
search with calibrated candidates and an index; the grant checks stay.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..analysis import FaceAnalyzer
from ..comparison import Comparison, compare_descriptors
from ..images import Image, ImageSource
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from ..templates.keys import DataKeys
from ..templates.store import list_templates

__all__ = ["Candidate", "Identification", "Verification", "identify", "verify"]


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
    """A gallery subject within the threshold of the probe."""

    subject_id: str
    distance: float
    similarity: float


@dataclass(frozen=True, slots=True)
class Identification:
    """The answer to "who is this?" within one purpose's gallery; empty means no match."""

    purpose_key: str
    candidates: tuple[Candidate, ...]
    threshold: float | None
    gallery_size: int

    @property
    def no_match(self) -> bool:
        return not self.candidates


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
             limit: int = 5) -> Identification:
    """Search ``purpose``'s gallery for the probe's face; the closest ``limit`` matches."""
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    stored = list_templates(conn, keys=keys, purpose_key=purpose.key, now=now)
    probe = analyzer.embed_single(image).descriptor
    assert probe is not None
    best: dict[str, Comparison] = {}
    threshold: float | None = purpose.threshold
    for t in stored:
        c = compare_descriptors(probe, t.descriptor, threshold=purpose.threshold)
        threshold = c.threshold
        if c.same_person and (t.subject_id not in best or c.distance < best[t.subject_id].distance):
            best[t.subject_id] = c
    ranked = sorted(best.items(), key=lambda item: item[1].distance)[:limit]
    return Identification(
        purpose_key=purpose.key,
        candidates=tuple(Candidate(subject_id=s, distance=c.distance, similarity=c.similarity)
                         for s, c in ranked),
        threshold=threshold, gallery_size=len({t.subject_id for t in stored}))
