"""One camera's pipeline, in a thread of its own: frames, faces, tracks, one decision per
track.

For each frame the source offers (the newest; see :mod:`facegate.cameras.source`), at
most ``detect_fps`` times a second, the pipeline:

1. finds the faces (the ``detect`` callable it was given: the pack's own detector,
   under the stream session's grant);
2. follows them (:mod:`facegate.cameras.tracker`);
3. scores each face's view and keeps, per track, the best shot since its last decision
   (:mod:`facegate.cameras.shots`);
4. decides a confirmed track once (the ``decider`` it was given: describe, check
   liveness where the purpose requires it, search or verify, record), as soon as it has
   a shot of ``min_quality``, or after ``patience`` seconds on its best shot of at least
   ``floor_quality``; again only when a shot ``retry_gain`` better than the one decided
   on arrives, at most ``max_attempts`` times, and never after a match or a review case;
5. ends tracks unseen for a while; the shot of a track goes with its decision or its end.

Everything is bounded: one frame waiting, at most ``max_tracks`` tracks with one shot
each. Counts (faces seen, tracks, matches, no-matches...) are all that outlive a track.
With ``every_frame`` the pipeline is the naive one the benchmark compares with: every
face of every processed frame is described and decided (what a track decided is not
recorded twice).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..engine.faces import Face
from ..errors import Error, InvalidArgument, PolicyRefusal, StoreBusy
from .shots import Shot, make_shot, shot_quality
from .source import FrameSource, SourceStatus
from .tracker import Track, Tracker, TrackerSettings

__all__ = [
    "Counts",
    "Decided",
    "Decider",
    "DecisionRecord",
    "Outcome",
    "Pipeline",
    "PipelineSettings",
    "PipelineStatus",
]

Detector = Callable[[npt.NDArray[np.uint8]], list[Face]]


class Outcome(StrEnum):
    """What a decision on a track came to."""

    #: identified within a purpose's gallery, or verified as the claimed identity
    MATCH = "match"
    #: a hit that waits for human review (R19)
    REVIEW = "review"
    #: nobody in the gallery, or not the claimed identity
    NO_MATCH = "no_match"
    #: the shot lies outside what the threshold's calibration measured
    UNDECIDED = "undecided"
    #: the gate refused the claim (consent withdrawn, say)
    REFUSED = "refused"
    #: the passive liveness score of the shot was too low
    LIVENESS = "liveness_refused"
    #: nothing to decide against yet (a verification camera without a claimed identity)
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Decided:
    """A decider's answer: the outcome, whether the track is done, how many descriptors
    were computed, and (for a match) the pseudonymous subject (never shown by the
    pipeline, for the caller's own bookkeeping)."""

    outcome: Outcome
    final: bool
    embeddings: int = 0
    subject: str | None = None


class Decider(Protocol):
    """What decides a track: the deployment's, bound to a stream session."""

    def ready(self) -> bool:
        """Whether a decision can be made now (a verification camera: a claim waits)."""

    def decide(self, track: Track, shot: Shot) -> Decided:
        """Decide ``track`` on ``shot``."""

    def track_ended(self, track: Track) -> None:
        """``track`` ended (a claim it held goes back)."""


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """How a camera's pipeline works (see the module docstring).

    Args:
        detect_fps: the most frames a second faces are looked for in.
        min_quality: a confirmed track is decided at once on a shot this good.
        floor_quality: after ``patience`` seconds, a track is decided on its best shot if
            it is at least this good.
        patience: seconds a track may wait for a shot of ``min_quality``.
        retry_gain: how much better (absolute quality) a shot must be than the one
            decided on for a track without a match to be decided again.
        max_attempts: the most decisions per track.
        every_frame: the naive pipeline (benchmarks): describe and decide every face of
            every processed frame.
        status_interval: seconds between status reports (the store's counts and lease).
        tracker: how faces are followed.
    """

    detect_fps: float = 15.0
    min_quality: float = 0.45
    floor_quality: float = 0.12
    patience: float = 0.3
    retry_gain: float = 0.15
    max_attempts: int = 3
    every_frame: bool = False
    status_interval: float = 1.0
    tracker: TrackerSettings = field(default_factory=TrackerSettings)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.detect_fps) and 0 < self.detect_fps <= 120):
            raise InvalidArgument("detect_fps must lie in (0, 120]")
        if not 0 <= self.floor_quality <= self.min_quality <= 1:
            raise InvalidArgument("qualities must satisfy 0 <= floor <= min <= 1")
        if self.max_attempts < 1:
            raise InvalidArgument("max_attempts must be at least 1")


@dataclass(frozen=True, slots=True)
class Counts:
    """What a stream session counted: frames processed, faces seen (detections), tracks
    (confirmed), decisions made, descriptors computed, and per track its final outcome
    (matches and review cases at once; the others when the track ends), detections not
    followed (too many tracks), and faces that were never decided."""

    frames: int = 0
    faces_seen: int = 0
    tracks: int = 0
    decisions: int = 0
    embeddings: int = 0
    matches: int = 0
    reviews: int = 0
    no_matches: int = 0
    undecided: int = 0
    refused: int = 0
    liveness_refused: int = 0
    overflow: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f: int(getattr(self, f)) for f in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """A camera's pipeline now: its state (``connecting``, ``running``, ``reconnecting``,
    ``ended``, ``stopped``, ``refused``, ``failed``), frames processed per second and the
    lag behind the camera (over the last few seconds), live tracks, the counts, the
    source's status, and an error's code."""

    state: str
    fps: float
    lag_ms: float
    live_tracks: int
    counts: Counts
    source: SourceStatus
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        s = self.source
        return {"state": self.state, "fps": round(self.fps, 2), "lag_ms": round(self.lag_ms, 1),
                "live_tracks": self.live_tracks, **self.counts.as_dict(),
                "decoded": s.decoded, "dropped": s.dropped, "connections": s.connections,
                "reconnects": s.reconnects, "error": self.error or s.error}


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision, for the caller's measurements (the benchmark's latency): the track,
    its first frame and when that frame was decoded, the frame decided on, when the
    decision was made (all ``time.monotonic()``), the outcome and the attempt."""

    track: int
    first_frame: int
    first_received: float
    shot_frame: int
    decided_at: float
    outcome: Outcome
    attempt: int
    subject: str | None


class Pipeline:
    """One camera's pipeline thread; see the module docstring.

    Args:
        source: the camera's frames.
        detect: finds the faces of a frame.
        decider: decides a track.
        settings: how it works.
        on_status: called every ``status_interval`` with the status; returning false
            stops the pipeline (its stream was stopped elsewhere, or lost).
        on_decision: called after each decision (measurements).
    """

    def __init__(self, source: FrameSource, detect: Detector, decider: Decider,
                 settings: PipelineSettings | None = None, *,
                 on_status: Callable[[PipelineStatus], bool] | None = None,
                 on_decision: Callable[[DecisionRecord], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or PipelineSettings()
        self._source = source
        self._detect = detect
        self._decider = decider
        self._on_status = on_status
        self._on_decision = on_decision
        self._clock = clock
        self._tracker = Tracker(self.settings.tracker)
        self._lock = threading.Lock()
        self._counts: dict[str, int] = Counts().as_dict()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = "starting"
        self._error: str | None = None
        self._recent: deque[tuple[float, float]] = deque(maxlen=64)  # (when, lag)
        self._done = threading.Event()

    # -- control -------------------------------------------------------------------------

    def start(self) -> None:
        self._source.start()
        self._thread = threading.Thread(target=self._run, name="facegate-camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the pipeline to stop; :meth:`join` waits for it."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the pipeline to end; whether it has."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def status(self) -> PipelineStatus:
        now = self._clock()
        with self._lock:
            counts = Counts(**self._counts)
            recent = [(t, lag) for t, lag in self._recent if now - t <= 3.0]
            state, error = self._state, self._error
            live = sum(1 for t in self._tracker if t.confirmed)
        fps = 0.0
        if len(recent) >= 2:
            span = max(recent[-1][0] - recent[0][0], 1e-6)
            fps = (len(recent) - 1) / span
        lag = 1000.0 * float(np.mean([lag for _, lag in recent])) if recent else 0.0
        source = self._source.status()
        if state == "running" and not source.connected and not source.ended:
            state = "reconnecting" if source.connections else "connecting"
        return PipelineStatus(state=state, fps=fps, lag_ms=lag, live_tracks=live, counts=counts,
                              source=source, error=error)

    # -- the thread ----------------------------------------------------------------------

    def _count(self, **more: int) -> None:
        with self._lock:
            for name, n in more.items():
                self._counts[name] += n

    def _run(self) -> None:
        s = self.settings
        period = 1.0 / s.detect_fps
        last = 0
        next_detect = -math.inf
        next_status = self._clock() + s.status_interval
        with self._lock:
            self._state = "running"
        try:
            while not self._stop.is_set():
                frame = self._source.take(last, timeout=0.2)
                now = self._clock()
                if frame is not None:
                    last = frame.index
                    # at most detect_fps frames a second on average, with half a period of
                    # slack: frames that come at the cap's rate with some jitter all pass
                    if frame.received >= next_detect - 0.5 * period:
                        next_detect = max(next_detect, frame.received - 0.5 * period) + period
                        self._process(frame.pixels, frame.index, frame.received)
                else:
                    self._end(self._tracker.expire(now))
                if now >= next_status:
                    next_status = now + s.status_interval
                    if self._on_status is not None and not self._on_status(self.status()):
                        break
                if frame is None and self._source.ended:
                    with self._lock:
                        self._state = "ended"
                        self._error = self._source.status().error
                    break
        except PolicyRefusal as exc:
            with self._lock:
                self._state, self._error = "refused", exc.code
        except Error as exc:
            with self._lock:
                self._state, self._error = "failed", exc.code
        except Exception as exc:  # the camera's thread reports, never dies silently
            with self._lock:
                self._state, self._error = "failed", type(exc).__name__
        finally:
            self._end(self._tracker.end_all())
            self._source.stop()
            with self._lock:
                if self._state == "running":
                    self._state = "stopped"
            self._done.set()

    def _process(self, pixels: npt.NDArray[np.uint8], index: int, received: float) -> None:
        s = self.settings
        faces = self._detect(pixels)
        with self._lock:
            self._recent.append((self._clock(), self._clock() - received))
        self._count(frames=1, faces_seen=len(faces))
        before = self._tracker.overflow
        pairs = self._tracker.update(faces, pixels, at=received, frame=index)
        if self._tracker.overflow != before:
            self._count(overflow=self._tracker.overflow - before)
        for track, face in pairs:
            if track.confirmed and track.hits == max(1, s.tracker.min_hits):
                self._count(tracks=1)
            if track.final and not s.every_frame:
                continue
            quality = shot_quality(face, pixels)
            held = track.shot.quality if track.shot is not None else -1.0
            if s.every_frame or quality > held:
                track.shot = make_shot(pixels, face, quality=quality, frame=index,
                                       received=received)
                track.best_quality = max(track.best_quality, quality)
        now = self._clock()
        due = [t for t in self._tracker if self._due(t, index, now)]
        due.sort(key=lambda t: -(t.shot.face.box.height if t.shot is not None else 0))
        for track in due:
            if not self._decider.ready():
                break
            self._decide(track, now)
        self._end(self._tracker.expire(received))

    def _due(self, track: Track, index: int, now: float) -> bool:
        s = self.settings
        shot = track.shot
        if not track.confirmed or shot is None:
            return False
        if s.every_frame:
            return shot.frame == index
        if track.final or track.attempts >= s.max_attempts:
            return False
        if track.attempts == 0:
            return shot.quality >= s.min_quality or (
                now - track.first_seen >= s.patience and shot.quality >= s.floor_quality)
        decided = track.decided_quality or 0.0
        return shot.quality >= decided + s.retry_gain

    def _decide(self, track: Track, now: float) -> None:
        shot = track.shot
        assert shot is not None
        try:
            decided = self._decider.decide(track, shot)
        except StoreBusy:
            return  # the store was busy for a while: the track is decided later
        if decided.outcome is Outcome.WAITING:
            track.shot = None  # a shot the decider cannot use yet gives way to the next view
            return
        was_final = track.final
        track.shot = None  # a decided shot is not kept
        track.attempts += 1
        track.decided_quality = shot.quality
        track.decided_at = self._clock()
        if not was_final:
            track.outcome = decided.outcome
            track.final = decided.final or track.attempts >= self.settings.max_attempts
        self._count(decisions=1, embeddings=decided.embeddings)
        if not was_final and decided.outcome is Outcome.MATCH:
            self._count(matches=1)
        if not was_final and decided.outcome is Outcome.REVIEW:
            self._count(reviews=1)
        if self._on_decision is not None:
            self._on_decision(DecisionRecord(
                track=track.id, first_frame=track.first_frame, first_received=track.first_seen,
                shot_frame=shot.frame, decided_at=track.decided_at, outcome=decided.outcome,
                attempt=track.attempts, subject=decided.subject))

    def _end(self, tracks: list[Track]) -> None:
        for track in tracks:
            track.shot = None
            if not track.confirmed:
                continue
            outcome = None if track.outcome is None else Outcome(track.outcome)
            if outcome in (Outcome.NO_MATCH, Outcome.UNDECIDED, Outcome.REFUSED,
                           Outcome.LIVENESS):
                name = {Outcome.NO_MATCH: "no_matches", Outcome.UNDECIDED: "undecided",
                        Outcome.REFUSED: "refused",
                        Outcome.LIVENESS: "liveness_refused"}[outcome]
                self._count(**{name: 1})
            elif outcome is None:
                self._count(undecided=1)
            self._decider.track_ended(track)

