"""A camera's stream running in this process: its pipeline, bound to the session's grants.

:class:`StreamSession` is what :meth:`~facegate.deployment.cameras.Cameras.watch` starts
(for ``facegate watch`` and the service's ``/v1/cameras/{id}/start``): a
:class:`~facegate.cameras.source.FrameSource`, a
:class:`~facegate.cameras.pipeline.Pipeline` whose detector runs the pack's detector
under the session's grant, and a decider that decides each track through the deployment
(:meth:`Cameras._decide_identify`): the gate asked again under the store's writer lock,
the search, and the audit entry of a decision about an enrolled person. A stranger
(identification finds nobody) leaves nothing: no entry, no crop, no descriptor; only the
session's counts. A verification camera's session holds the claimed identities that
wait for a face (:mod:`facegate.cameras.claims`): a track is decided only with one, 1:1
against that subject (:meth:`Cameras._decide_verify`); a claim no face took within its
window is recorded as expired at the next status report or at the session's end.
When the pipeline ends (stopped, the source ended, the gate refused,
the stream taken over elsewhere) the session records ``stream-stopped`` with its counts,
once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..cameras.claims import Claims
from ..cameras.models import Camera
from ..cameras.pipeline import (
    Decided,
    DecisionRecord,
    Outcome,
    Pipeline,
    PipelineSettings,
    PipelineStatus,
)
from ..cameras.shots import Shot
from ..cameras.source import FrameSource
from ..cameras.tracker import Track
from ..engine.base import DetectOptions, DetectorChoice
from ..engine.faces import Face
from ..errors import Error
from ..images import Image
from ..matching import stream as engine_steps
from ..policy.decision import Grant, Operation
from ..purposes.models import Mode, Purpose

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .cameras import Cameras

__all__ = ["StreamSession", "StreamSummary"]

log = logging.getLogger("facegate.cameras")


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """How a stream session ended: why, when, and its counts (as audited)."""

    session_id: str
    camera_id: str
    why: str
    started_at: datetime
    ended_at: datetime
    counts: dict[str, Any]


class _Decider:
    """Decides a track of one session through the deployment."""

    def __init__(self, session: StreamSession) -> None:
        self._s = session

    def ready(self) -> bool:
        return True

    def decide(self, track: Track, shot: Shot) -> Decided:
        s = self._s
        return s.deployment._decide_identify(s, track, shot)

    def track_ended(self, track: Track) -> None:
        """Nothing of an ended track is kept (its shot went with it)."""


class _ClaimDecider:
    """Decides a track of a verification camera: only with a claimed identity, against
    that subject alone, one decision per claim, on a face the frame's edge does not
    cut."""

    def __init__(self, session: StreamSession, claims: Claims) -> None:
        self._s = session
        self._claims = claims

    def ready(self) -> bool:
        return self._claims.live()

    def decide(self, track: Track, shot: Shot) -> Decided:
        h, w = shot.pixels.shape[:2]
        box = shot.face.box
        if box.left <= 1 or box.top <= 1 or box.right >= w - 1 or box.bottom >= h - 1:
            # the frame's edge cuts the face (someone stepping in): one decision per
            # claim is made on a whole face only; a better shot comes, or the claim lapses
            return Decided(outcome=Outcome.WAITING, final=False)
        claim = self._claims.take(track.id)
        if claim is None:
            return Decided(outcome=Outcome.WAITING, final=False)
        try:
            decided = self._s.deployment._decide_verify(self._s, track, shot, claim)
        except BaseException:
            self._claims.give_back(track.id)
            raise
        self._claims.used(track.id)
        return decided

    def track_ended(self, track: Track) -> None:
        """A claim the track took and did not use waits again."""
        self._claims.give_back(track.id)


class StreamSession:
    """One camera's stream in this process; started by the deployment (never directly).

    ``status()`` is the pipeline's; ``stop()`` ends it and returns the summary that
    ``stream-stopped`` records; ``wait()`` waits for it to end by itself (a file's end).
    """

    def __init__(self, deployment: Cameras, *, camera: Camera, purposes: list[Purpose],
                 grants: dict[str, Grant], source: FrameSource, session_id: str,
                 operator: str, holder: str, started_at: datetime,
                 settings: PipelineSettings,
                 on_decision: Callable[[DecisionRecord], None] | None = None) -> None:
        self.deployment = deployment
        self.camera = camera
        self.purposes = purposes
        self.grants = grants
        self.id = session_id
        self.operator = operator
        self.holder = holder
        self.started_at = started_at
        self.source = source
        first = purposes[0]
        self.detect_pack = first.enrolling_pack()
        self._options = DetectOptions(detector=DetectorChoice.HOG, upsample=0, max_side=1280,
                                      fallbacks=False)
        self.stop_operator: str | None = None
        self.why: str | None = None
        self.summary: StreamSummary | None = None
        self._finished = threading.Event()
        self._finish_lock = threading.Lock()
        #: the claimed identities a verification camera waits on (``None``: it identifies)
        self.claims = Claims() if camera.mode is Mode.VERIFY else None
        decider: _Decider | _ClaimDecider = (
            _Decider(self) if self.claims is None else _ClaimDecider(self, self.claims))
        self.pipeline = Pipeline(source, self._detect, decider, settings,
                                 on_status=self._tick, on_decision=on_decision)

    # -- what the pipeline calls ---------------------------------------------------------

    def _detect(self, pixels: npt.NDArray[np.uint8]) -> list[Face]:
        d = self.deployment
        grant = self.grants[self.purposes[0].key]
        with d._inference(self.detect_pack):
            return engine_steps.find_faces(
                grant, analyzer=d.analyzer_for(self.detect_pack),
                purpose_key=self.purposes[0].key,
                image=Image(pixels=pixels, source_format="camera"), options=self._options)

    def _tick(self, status: PipelineStatus) -> bool:
        if self.claims is not None:
            self.deployment._claims_expired(self, self.claims.expired())
        return self.deployment._stream_tick(self, status)

    def grant_for(self, operation: Operation, purpose: str) -> Grant:
        grant = self.grants[purpose]
        grant.ensure_covers(operation, purpose_key=purpose, subject_id=None)
        return grant

    # -- control -------------------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._watch_end, name="facegate-camera-end",
                         daemon=True).start()
        self.pipeline.start()

    def _watch_end(self) -> None:
        self.pipeline.join()
        self._finish()

    def _finish(self) -> None:
        with self._finish_lock:
            if self._finished.is_set():
                return
            try:
                if self.claims is not None:  # the stream ends: what no face took expires
                    self.deployment._claims_expired(self, self.claims.expired(everything=True))
                self.summary = self.deployment._end_stream(self, self.pipeline.status())
            except Error as exc:  # the store failed: say so by code, never by data
                log.warning(json.dumps({"event": "camera", "camera": self.camera.id,
                                        "error": exc.code}))
            finally:
                self._finished.set()

    def status(self) -> PipelineStatus:
        return self.pipeline.status()

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the session to end and be recorded; whether it has."""
        return self._finished.wait(timeout)

    def stop(self, *, operator: str | None = None, why: str = "stopped",
             timeout: float = 30.0) -> StreamSummary | None:
        """End the stream: the pipeline stops, its tracks end, ``stream-stopped`` is
        recorded with the counts (by ``operator``); returns the summary."""
        if self.why is None:
            self.why = why
            self.stop_operator = operator
        self.pipeline.stop()
        self._finished.wait(timeout)
        return self.summary
