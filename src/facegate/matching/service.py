"""Verification (1:1) and identification (1:N), each behind a grant.

Comparison is :func:`facegate.comparison.compare_descriptors`; the decision
distance is the purpose's threshold for the pack, or the pack's calibrated
default. Only unexpired templates of the granted purpose are searched: a
purpose's gallery never serves another purpose (R2, R13). A gallery holds one
model pack; during a pack migration's window the purpose's two packs are
searched side by side, each with its own probe descriptor and threshold, and
never compared with each other (a subject matched in both is answered by the
migration target's template).

Each candidate carries the false-match rate its distance corresponds to on
the purpose's calibration data, when the pack has a calibration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..analysis import FaceAnalyzer
from ..calibration.models import Calibration
from ..comparison import Comparison, compare_descriptors
from ..images import Image, ImageSource
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from ..templates.keys import DataKeys
from ..templates.store import list_templates

__all__ = ["Candidate", "Identification", "Verification", "identify", "verify"]

#: The analyzer of a model pack, by pack id.
Analyzers = Callable[[str], FaceAnalyzer]


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to "is this the enrolled subject?" for one purpose."""

    subject_id: str
    purpose_key: str
    matched: bool
    distance: float | None
    threshold: float | None
    templates: int
    pack: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A gallery subject within the threshold of the probe.

    ``fmr`` is the share of the calibration's different-person pairs at or
    below this distance (``None`` when the pack has no calibration).
    """

    subject_id: str
    distance: float
    similarity: float
    pack: str = ""
    fmr: float | None = None


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


def verify(grant: Grant, *, conn: sqlite3.Connection, keys: DataKeys, analyzers: Analyzers,
           image: ImageSource | Image, purpose: Purpose, subject_id: str,
           now: datetime) -> Verification:
    """Compare the probe's face with the subject's templates for ``purpose``."""
    grant.ensure_covers(Operation.VERIFY, purpose_key=purpose.key, subject_id=subject_id)
    packs = purpose.packs_in_use(now)
    stored = list_templates(conn, keys=keys, purpose_key=purpose.key, subject_id=subject_id,
                            now=now, packs=packs)
    if not stored:
        return Verification(subject_id=subject_id, purpose_key=purpose.key, matched=False,
                            distance=None, threshold=purpose.threshold_for(packs[-1]),
                            templates=0)
    results: list[Comparison] = []
    for pack in packs:
        mine = [t for t in stored if t.descriptor.pack == pack]
        if not mine:
            continue
        probe = analyzers(pack).embed_single(image).descriptor
        assert probe is not None
        results += [compare_descriptors(probe, t.descriptor, threshold=purpose.threshold_for(pack))
                    for t in mine]
    best = min(results, key=lambda c: (not c.same_person, c.distance))
    return Verification(subject_id=subject_id, purpose_key=purpose.key,
                        matched=best.same_person, distance=best.distance,
                        threshold=best.threshold, templates=len(stored), pack=best.pack)


def identify(grant: Grant, *, conn: sqlite3.Connection, keys: DataKeys, analyzers: Analyzers,
             image: ImageSource | Image, purpose: Purpose, now: datetime,
             calibrations: Mapping[str, Calibration | None] | None = None,
             limit: int = 5) -> Identification:
    """Search ``purpose``'s gallery for the probe's face; the closest ``limit`` matches."""
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    packs = purpose.packs_in_use(now)
    stored = list_templates(conn, keys=keys, purpose_key=purpose.key, now=now, packs=packs)
    best: dict[str, Comparison] = {}
    threshold: float | None = purpose.threshold_for(packs[-1])
    for pack in packs:
        mine = [t for t in stored if t.descriptor.pack == pack]
        if not mine and len(packs) > 1:
            continue
        probe = analyzers(pack).embed_single(image).descriptor
        assert probe is not None
        for t in mine:
            c = compare_descriptors(probe, t.descriptor, threshold=purpose.threshold_for(pack))
            threshold = c.threshold if pack == packs[-1] else threshold
            if c.same_person and _better(c, best.get(t.subject_id)):
                best[t.subject_id] = c
    ranked = sorted(best.items(), key=lambda item: item[1].distance)[:limit]
    found = calibrations or {}

    def fmr(c: Comparison) -> float | None:
        calibration = found.get(c.pack)
        return calibration.fmr_at(c.distance) if calibration is not None else None

    return Identification(
        purpose_key=purpose.key,
        candidates=tuple(Candidate(subject_id=s, distance=c.distance, similarity=c.similarity,
                                   pack=c.pack, fmr=fmr(c)) for s, c in ranked),
        threshold=threshold, gallery_size=len({t.subject_id for t in stored}))


def _better(new: Comparison, old: Comparison | None) -> bool:
    """Distances of two packs are not comparable: a later pack's match (the migration
    target, searched second) replaces an earlier one; within a pack the closer wins."""
    return old is None or new.pack != old.pack or new.distance < old.distance
