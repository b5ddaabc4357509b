"""Verification (1:1) and identification (1:N), each behind a grant.

Comparison is :func:`facegate.comparison.compare_descriptors`; the decision
distance is the purpose's threshold for the pack, or the pack's calibrated
default. Only unexpired templates of the granted purpose are searched: a
purpose's gallery never serves another purpose (R2, R13). Identification
answers every face in the probe, each with its candidates or ``no_match``; the
search runs on the purpose's in-memory gallery index per model pack
(:mod:`facegate.matching.gallery`, :mod:`facegate.matching.index`).

A gallery holds one model pack; during a pack migration's window the
purpose's two packs are searched side by side, each with its own probe
descriptor and threshold, and never compared with each other (a subject
matched in both is answered by the migration target's template). Each
candidate carries the false-match rate its distance corresponds to on the
purpose's calibration data, when the pack has a calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from ..analysis import FaceAnalyzer
from ..calibration.models import Calibration, FalseMatchRate, false_match_rate
from ..comparison import Comparison, compare_descriptors
from ..engine.faces import Box, Descriptor, Face
from ..errors import InvalidArgument, NoFaceFound
from ..images import Image, ImageSource
from ..policy.decision import Grant, Operation
from ..purposes.models import Purpose
from ..quality import outside_measured
from ..storage.connection import Connection
from ..templates.keys import DataKeys
from ..templates.store import list_templates
from .gallery import Galleries
from .search import nearest_subjects

__all__ = ["Candidate", "FaceIdentification", "Identification", "Probe", "Verification",
           "describe_probe", "embed_probe", "identify", "verify"]

#: The analyzer of a model pack, by pack id.
Analyzers = Callable[[str], FaceAnalyzer]


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to "is this the enrolled subject?" for one purpose.

    ``decided`` is false when the probe's quality lies outside what the
    threshold's calibration measured of its own faces (``quality`` names how:
    ``small_face``, ``turned_away``...): the calibration's error rates say
    nothing about such a probe, so no match is claimed and the person is asked
    for a better photo (or the alternative) rather than decided on.
    """

    subject_id: str
    purpose_key: str
    matched: bool
    distance: float | None
    threshold: float | None
    templates: int
    pack: str | None = None
    decided: bool = True
    quality: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A gallery subject within the threshold of the probe.

    ``fmr`` is the false-match rate at this distance on the purpose's calibration, with
    its interval, never a bare 0 (``None`` when the pack has no calibration).
    ``review_case`` names the review case the hit became, for a purpose
    configured for human review (R19); it cannot be acted on until confirmed.
    """

    subject_id: str
    distance: float
    similarity: float
    pack: str = ""
    fmr: FalseMatchRate | None = None
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


@dataclass(frozen=True, slots=True)
class Probe:
    """A verification probe's face as one pack sees it: its descriptor, and the quality
    measures read against what the pack's calibration measured."""

    descriptor: Descriptor
    metrics: Mapping[str, float]


def _probe(analyzer: FaceAnalyzer, image: ImageSource | Image) -> Probe:
    face, report = analyzer.embed_single_assessed(image)
    assert face.descriptor is not None
    return Probe(descriptor=face.descriptor, metrics=report.metrics)


def embed_probe(grant: Grant, *, analyzers: Analyzers, image: ImageSource | Image,
                purpose: Purpose, subject_id: str, packs: list[str]) -> dict[str, Probe]:
    """The probe's descriptor and measures for each of ``packs``: the engine's part of a
    verification, run before the store is locked (the grant covers it); :func:`verify`
    compares."""
    grant.ensure_covers(Operation.VERIFY, purpose_key=purpose.key, subject_id=subject_id)
    return {pack: _probe(analyzers(pack), image) for pack in packs}


def verify(grant: Grant, *, conn: Connection, keys: DataKeys, analyzers: Analyzers,
           image: ImageSource | Image, purpose: Purpose, subject_id: str,
           now: datetime, threshold: Callable[[str, int], tuple[float, int]] | None = None,
           quality: Callable[[str], Mapping[str, float] | None] | None = None,
           probes: Mapping[str, Probe] | None = None) -> Verification:
    """Compare the probe's face with the subject's templates for ``purpose``.

    A subject may hold several templates (several enrollment photos); the
    probe matches when its distance to any of them is within the threshold.

    Args:
        threshold: for a pack and the number of the subject's templates of it, the
            decision distance and how many of the newest templates to compare (the
            purpose's own calibration or its pack's shipped one for the population it
            serves, at its target FMR divided by the number compared); the purpose's
            threshold, else the pack's default, with every template, when ``None``.
        quality: each pack's measures of the faces its threshold was calibrated on
            (:func:`facegate.quality.outside_measured`); a probe outside them is
            not decided on.
        probes: the probe's descriptor and measures by pack, from :func:`embed_probe`;
            a pack missing there is embedded now.
    """
    grant.ensure_covers(Operation.VERIFY, purpose_key=purpose.key, subject_id=subject_id)
    packs = purpose.packs_in_use(now)

    def limit(pack: str, count: int) -> tuple[float | None, int]:
        if threshold is not None:
            return threshold(pack, count)
        return purpose.threshold_for(pack), count

    stored = list_templates(conn, keys=keys, purpose_key=purpose.key, subject_id=subject_id,
                            now=now, packs=packs)
    if not stored:
        return Verification(subject_id=subject_id, purpose_key=purpose.key, matched=False,
                            distance=None, threshold=limit(packs[-1], 1)[0], templates=0)
    results: list[tuple[Comparison, tuple[str, ...]]] = []
    for pack in packs:
        mine = [t for t in stored if t.descriptor.pack == pack]
        if not mine:
            continue
        at, used = limit(pack, len(mine))
        mine = sorted(mine, key=lambda t: t.id, reverse=True)[:max(1, used)]
        found = (probes or {}).get(pack) or _probe(analyzers(pack), image)
        probe = found.descriptor
        assert probe is not None
        measured = quality(pack) if quality is not None else None
        outside = tuple(r.value for r in outside_measured(found.metrics, measured or {}))
        results += [(compare_descriptors(probe, t.descriptor, threshold=at), outside)
                    for t in mine]
    # Distances of two packs are not comparable: a match by the pack new templates are
    # made with answers first (as in identification), then the smallest distance.
    newest = purpose.enrolling_pack()
    best, outside = min(results, key=lambda r: (not r[0].same_person, r[0].pack != newest,
                                                r[0].distance))
    return Verification(subject_id=subject_id, purpose_key=purpose.key,
                        matched=best.same_person and not outside, distance=best.distance,
                        threshold=best.threshold, templates=len(stored), pack=best.pack,
                        decided=not outside, quality=outside)


def describe_probe(grant: Grant, *, analyzers: Analyzers, image: ImageSource | Image,
                   purpose: Purpose, now: datetime) -> dict[str, list[Face]]:
    """Every face of the probe with its descriptor, for each pack the purpose searches:
    the engine's part of an identification, run before the store is locked (the grant
    covers it); :func:`identify` searches."""
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    return {pack: _described(analyzers(pack), image) for pack in purpose.packs_in_use(now)}


def identify(grant: Grant, *, conn: Connection, keys: DataKeys, analyzers: Analyzers,
             image: ImageSource | Image, purpose: Purpose, now: datetime,
             calibrations: Mapping[str, Calibration | None] | None = None,
             limit: int = 5, galleries: Galleries | None = None,
             described: Mapping[str, list[Face]] | None = None) -> Identification:
    """Search ``purpose``'s gallery for every face of the probe; up to ``limit`` candidates
    within the threshold per face.

    Args:
        calibrations: each pack's calibration, for the candidates' false-match rates.
        galleries: the deployment's in-memory indexes; without it one is built for this call.
            The caller holds its lock for the call.
        described: the probe's faces by pack, from :func:`describe_probe`; a pack missing
            there is described now.

    Raises:
        NoFaceFound: the probe holds no face.
    """
    grant.ensure_covers(Operation.IDENTIFY, purpose_key=purpose.key, subject_id=None)
    packs = purpose.packs_in_use(now)
    registry = galleries or Galleries()
    found = calibrations or {}
    given = described or {}

    def faces_of(pack_id: str) -> list[Face]:
        known = given.get(pack_id)
        return known if known is not None else _described(analyzers(pack_id), image)

    # The faces of the probe are those the enrolling pack's engine finds; an older pack
    # (during a migration) answers for the face its own engine finds at the same place.
    base = faces_of(packs[-1])
    if not base:
        raise NoFaceFound("no face was found in the image")
    merged: list[dict[str, Candidate]] = [{} for _ in base]
    threshold = 0.0
    subjects = 0
    for pack_id in packs:
        analyzer = analyzers(pack_id)
        pack = analyzer.pack
        threshold = purpose.threshold_for(pack_id) or pack.default_threshold
        if not 0.0 < threshold < 2.0:
            raise InvalidArgument("threshold must lie between 0 and 2",
                                  details={"threshold": threshold})
        faces = base if pack_id == packs[-1] else _same_places(base, faces_of(pack_id))
        index = registry.get(conn, keys=keys, purpose_key=purpose.key, pack=pack.id,
                             pack_version=pack.version, now=now)
        subjects = max(subjects, index.subject_count)
        present = [n for n, f in enumerate(faces) if f is not None]
        if not present or index.subject_count == 0:
            continue
        probes = np.stack([_vector(faces[n]) for n in present])
        hits = nearest_subjects(index, probes, threshold=threshold, limit=limit, now=now)
        calibration = found.get(pack_id)
        for n, found_here in zip(present, hits, strict=True):
            for subject, d in found_here:
                merged[n][subject] = Candidate(
                    subject_id=subject, distance=d, similarity=1.0 - d * d / 2.0, pack=pack_id,
                    fmr=None if calibration is None else false_match_rate(
                        d, calibration.impostor_distances, calibration.impostor_pairs,
                        calibration=f"calibration {calibration.id}"))
    answers = tuple(
        FaceIdentification(face=n, box=face.box, candidates=tuple(
            sorted(merged[n].values(), key=lambda c: c.distance)[:limit]))
        for n, face in enumerate(base))
    return Identification(purpose_key=purpose.key, faces=answers, threshold=threshold,
                          gallery_size=subjects)


def _described(analyzer: FaceAnalyzer, image: ImageSource | Image) -> list[Face]:
    return [f for f in analyzer.embed(image) if f.descriptor is not None]


def _vector(face: Face | None) -> npt.NDArray[np.float32]:
    assert face is not None and face.descriptor is not None
    return face.descriptor.vector


def _same_places(base: list[Face], others: list[Face]) -> list[Face | None]:
    """For each face of ``base``, the face of ``others`` at the same place (the largest
    overlap, at least half of the smaller box), or ``None``."""
    out: list[Face | None] = []
    for face in base:
        best, best_overlap = None, 0.5
        for other in others:
            overlap = _overlap(face.box, other.box)
            if overlap > best_overlap:
                best, best_overlap = other, overlap
        out.append(best)
    return out


def _overlap(a: Box, b: Box) -> float:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / min(a.area, b.area)
