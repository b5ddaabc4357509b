"""Checking an answer: one face, the asked actions in order, 3D motion, a live texture.

:func:`observe` runs the engine once over a frame sequence and keeps, per
frame, only numbers: the face box, the eye aspect ratio, the head pose, the
planar residual against the first frame, the passive score, and the
descriptor distances to the first frame for a few frames. :func:`judge` is
pure: it decides a challenge's actions on those observations.

The answer passes only when every check passes:

* ``face``: a face in every frame, and no second face of similar size;
* ``identity``: the sampled frames' descriptors are all within the decision
  distance of the first frame's (the same person throughout);
* ``actions``: the turns seen are exactly the asked turns, in order, and the
  asked actions occur in the asked order (extra natural blinks are allowed);
  a blink counts only while the face is near its first frame's pose, a turn
  when the yaw passes ``turn_degrees`` from the first frame's and returns;
* ``timing``: timestamps increase and span at most ``max_duration`` seconds;
* ``planar``: at the frame turned furthest from the first, the nose's
  parallax against the homography of the rest of the face (see
  :mod:`~facegate.liveness.signals`) reaches ``planar_min``; a flat photo or
  screen, however it is moved, stays near the landmark noise;
* ``passive``: when the pack's liveness network is installed, the mean
  per-frame live score reaches ``passive_min``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from ..analysis import FaceAnalyzer
from ..comparison import compare_descriptors
from ..engine.faces import Face
from ..errors import InvalidArgument, LivenessOverBudget
from ..images import load_image
from ..quality import estimate_pose
from .challenges import Action
from .frames import MAX_FRAMES, Frame
from .passive import PassiveScorer
from .signals import eye_aspect_ratio, planar_residual

__all__ = ["Frame", "FrameObservation", "LivenessResult", "LivenessSettings", "Observations",
           "judge", "observe"]


@dataclass(frozen=True, slots=True)
class LivenessSettings:
    """Limits of a liveness check; the defaults are discussed in ``docs/liveness.md``.

    Args:
        min_frames / max_frames: how many frames an answer may have.
        max_duration: the longest answer, in seconds of its own timestamps.
        turn_degrees: |yaw| a turn must reach.
        frontal_degrees: |yaw| under which the face counts as frontal.
        blink_closed: eye aspect ratio, as a share of the open-eye baseline,
            under which the eyes count as closed.
        blink_open: share of the baseline the eyes must return to.
        planar_min: the smallest nose parallax (inter-ocular units) at the
            widest turn; real photo pairs 20-40 degrees of yaw apart measured
            0.059 at least, 0.091 at the 10th percentile.
        passive_min: the smallest mean live score of the passive network.
        identity_frames: how many frames (first and last included) are embedded.
        second_face_ratio: another face at least this share of the primary
            face's width refuses the frame.
        frame_side: each frame is reduced to this longer side before it is looked at.
        max_total_pixels: the most pixels all frames may declare together (their
            headers, read before any frame is decoded).
        max_seconds: the most time observing an answer may take; a check that runs
            over stops and is refused.
    """

    min_frames: int = 5
    max_frames: int = MAX_FRAMES
    max_duration: float = 20.0
    turn_degrees: float = 20.0
    frontal_degrees: float = 12.0
    blink_closed: float = 0.65
    blink_open: float = 0.85
    planar_min: float = 0.06
    passive_min: float = 0.5
    identity_frames: int = 5
    second_face_ratio: float = 0.5
    frame_side: int = 1280
    max_total_pixels: int = 200_000_000
    max_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class FrameObservation:
    """The numbers kept from one frame (no image, no landmarks, no descriptor)."""

    at: float
    face: bool
    second_face: bool = False
    ear: float = 0.0
    yaw: float = 0.0
    planar: float = 0.0
    passive: float | None = None
    identity_distance: float | None = None


@dataclass(frozen=True, slots=True)
class Observations:
    """A sequence's observations, and the decision distance identity was judged at."""

    frames: tuple[FrameObservation, ...]
    threshold: float
    identity_ok: bool


@dataclass(frozen=True, slots=True)
class LivenessResult:
    """The outcome of a check: every score and, when it failed, every reason."""

    passed: bool
    actions_asked: tuple[Action, ...]
    actions_seen: tuple[Action, ...]
    scores: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "actions_asked": [a.value for a in self.actions_asked],
                "actions_seen": [a.value for a in self.actions_seen], "scores": self.scores,
                "reasons": list(self.reasons)}


def _spread(n: int, k: int) -> list[int]:
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def observe(frames: Sequence[Frame], analyzer: FaceAnalyzer, *,
            passive: PassiveScorer | None = None, threshold: float | None = None,
            settings: LivenessSettings | None = None,
            timer: Callable[[], float] = time.monotonic) -> Observations:
    """Run the engine over ``frames`` and keep the numbers :func:`judge` needs.

    What it may cost is bounded: the frames' declared pixels together, before any is
    decoded; each frame's size (reduced to ``frame_side``); and the time it takes.

    Raises:
        InvalidArgument: too few or too many frames.
        LivenessOverBudget: the frames declare more pixels than ``max_total_pixels``, or
            observing them takes longer than ``max_seconds``.
        ImageError: a frame cannot be decoded.
    """
    cfg = settings or LivenessSettings()
    if not cfg.min_frames <= len(frames) <= cfg.max_frames:
        raise InvalidArgument(
            f"an answer needs {cfg.min_frames} to {cfg.max_frames} frames, got {len(frames)}",
            details={"frames": len(frames)})
    declared = sum(f.declared_pixels() for f in frames)
    if declared > cfg.max_total_pixels:
        raise LivenessOverBudget(
            f"the frames declare {declared} pixels, over the answer's budget of "
            f"{cfg.max_total_pixels}", details={"limit": "pixels", "pixels": declared,
                                                "max": cfg.max_total_pixels})
    started = timer()
    limits = dataclasses.replace(analyzer.settings.limits,
                                 working_side=min(cfg.frame_side,
                                                  analyzer.settings.limits.working_side))
    engine = analyzer.engine
    embed_at = set(_spread(len(frames), cfg.identity_frames))
    out: list[FrameObservation] = []
    reference: np.ndarray[Any, Any] | None = None
    first: Face | None = None
    limit = threshold if threshold is not None else analyzer.pack.default_threshold
    identity_ok = True
    for i, frame in enumerate(frames):
        if timer() - started > cfg.max_seconds:
            raise LivenessOverBudget(
                f"observing the answer took more than {cfg.max_seconds:.0f} s (stopped before "
                f"frame {i} of {len(frames)})",
                details={"limit": "time", "frame": i, "max_seconds": cfg.max_seconds})
        image = load_image(frame.image, limits=limits)
        faces = engine.detect(image, analyzer.settings.detect)
        if not faces:
            out.append(FrameObservation(at=frame.at, face=False))
            continue
        face = faces[0]
        second = any(f.box.width >= cfg.second_face_ratio * face.box.width for f in faces[1:])
        lm = engine.landmarks68(image, face)
        points = lm.as_array()
        yaw = estimate_pose(lm)[0]
        if reference is None:
            reference = points
        residual = planar_residual(reference, points)
        distance = None
        if i in embed_at or first is None:
            embedded = engine.embed(image, [face])[0]
            if first is None:
                first = embedded
                distance = 0.0
            else:
                assert first.descriptor is not None and embedded.descriptor is not None
                cmp = compare_descriptors(first.descriptor, embedded.descriptor, threshold=limit)
                distance = cmp.distance
                identity_ok = identity_ok and cmp.same_person
        out.append(FrameObservation(
            at=frame.at, face=True, second_face=second, ear=eye_aspect_ratio(points), yaw=yaw,
            planar=residual, passive=passive.score(image.pixels, face.box) if passive else None,
            identity_distance=distance))
    return Observations(frames=tuple(out), threshold=limit, identity_ok=identity_ok)


def _events(frames: Sequence[FrameObservation], cfg: LivenessSettings,
            baseline: float, rest: float) -> list[Action]:
    """The actions seen, in order of their start; yaw is taken relative to ``rest``,
    the first frame's, so a camera slightly off-axis does not count as a turn."""
    events: list[Action] = []
    closed = False
    side: Action | None = None
    for f in frames:
        if not f.face:
            continue
        yaw = f.yaw - rest
        frontal = abs(yaw) < cfg.frontal_degrees
        if frontal and baseline > 0:
            if f.ear < cfg.blink_closed * baseline:
                closed = True
            elif closed and f.ear >= cfg.blink_open * baseline:
                events.append(Action.BLINK)
                closed = False
        if side is None:
            if yaw <= -cfg.turn_degrees:
                side = Action.TURN_LEFT
            elif yaw >= cfg.turn_degrees:
                side = Action.TURN_RIGHT
            if side is not None:
                events.append(side)
                closed = False
        elif frontal:
            side = None
    return events


def _in_order(asked: Sequence[Action], seen: Sequence[Action]) -> bool:
    it = iter(seen)
    return all(any(s is a for s in it) for a in asked)


def judge(asked: Sequence[Action], obs: Observations,
          settings: LivenessSettings | None = None) -> LivenessResult:
    """Decide whether ``obs`` answer a challenge asking for ``asked``; pure."""
    cfg = settings or LivenessSettings()
    frames = obs.frames
    seen_faces = [f for f in frames if f.face]
    reasons: list[str] = []
    missing = [i for i, f in enumerate(frames) if not f.face]
    if missing:
        reasons.append(f"face: no face in {len(missing)} of {len(frames)} frames "
                       f"(first: frame {missing[0]})")
    if any(f.second_face for f in frames):
        reasons.append("face: a second face of similar size is in view")
    if not obs.identity_ok:
        reasons.append("identity: the frames do not show one and the same person")
    times = [f.at for f in frames]
    duration = times[-1] - times[0] if times else 0.0
    if any(b <= a for a, b in pairwise(times)):
        reasons.append("timing: frame timestamps must increase")
    if duration > cfg.max_duration:
        reasons.append(f"timing: the answer spans {duration:.1f} s, more than "
                       f"{cfg.max_duration:.0f} s")
    rest = seen_faces[0].yaw if seen_faces else 0.0
    frontal_ears = [f.ear for f in seen_faces if abs(f.yaw - rest) < cfg.frontal_degrees]
    baseline = float(np.percentile(frontal_ears, 75)) if frontal_ears else 0.0
    seen = _events(frames, cfg, baseline, rest)
    asked_turns = [a for a in asked if a is not Action.BLINK]
    seen_turns = [a for a in seen if a is not Action.BLINK]
    if not _in_order(asked, seen) or seen_turns != asked_turns:
        done = [a for a in asked if a in seen]
        if sorted(done) == sorted(asked) and len(seen_turns) == len(asked_turns):
            reasons.append("actions: the asked actions were done in the wrong order "
                           f"(asked {', '.join(asked)}; seen {', '.join(seen) or 'none'})")
        else:
            reasons.append(f"actions: asked {', '.join(asked)}; seen {', '.join(seen) or 'none'}")
    widest = max(seen_faces, key=lambda f: abs(f.yaw - seen_faces[0].yaw), default=None)
    planar = widest.planar if widest is not None else 0.0
    if planar < cfg.planar_min:
        reasons.append(f"planar: the landmarks move as one plane (residual {planar:.4f} < "
                       f"{cfg.planar_min}): a flat photo or screen")
    passive_scores = [f.passive for f in seen_faces if f.passive is not None]
    passive = float(np.mean(passive_scores)) if passive_scores else None
    if passive is not None and passive < cfg.passive_min:
        reasons.append(f"passive: live score {passive:.3f} < {cfg.passive_min}")
    yaws = [f.yaw for f in seen_faces]
    distances = [f.identity_distance for f in frames if f.identity_distance is not None]
    scores: dict[str, Any] = {
        "frames": len(frames), "faces": len(seen_faces), "duration_s": round(duration, 3),
        "identity_max_distance": round(max(distances, default=0.0), 4),
        "identity_threshold": obs.threshold,
        "ear_baseline": round(baseline, 4),
        "ear_min": round(min((f.ear for f in seen_faces), default=0.0), 4),
        "yaw_min": round(min(yaws, default=0.0), 2), "yaw_max": round(max(yaws, default=0.0), 2),
        "planar_residual": round(planar, 5),
        "planar_residual_max": round(max((f.planar for f in seen_faces), default=0.0), 5),
        "passive_live": None if passive is None else round(passive, 4),
    }
    return LivenessResult(passed=not reasons, actions_asked=tuple(asked),
                          actions_seen=tuple(seen), scores=scores, reasons=tuple(reasons))
