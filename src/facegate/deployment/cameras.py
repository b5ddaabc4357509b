"""Cameras through the deployment: registration through the gate, stream sessions, and
the decision on each track (docs/cameras.md).

A camera is registered only when the gate allows it (:func:`~facegate.policy.gate.
check_camera`: R12, R13, R1); a refusal is audited as ``refusal`` with the rule, like
every other. A stream session starts only with the gate's grants for each purpose the
camera serves (:func:`~facegate.policy.gate.require_stream`); it is audited as
``stream-started`` and, when it ends, ``stream-stopped`` with its counts (frames,
faces seen, tracks, matches, no-matches...). Nothing else of a stranger is written:
a track that identification finds nobody for leaves no entry, no crop, no descriptor
and no event. A match is audited as ``camera-match`` (the ``door.open`` event), with
the identification session it opened; where the purpose is configured for review the
hit becomes a review case and the track's shot is the sealed probe until the decision
(R19), as for an identification of a photo.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ..cameras import repository as camera_store
from ..cameras.models import (
    MAX_PURPOSES,
    Camera,
    check_camera_id,
    check_source,
    redact_source,
)
from ..cameras.pipeline import Decided, DecisionRecord, Outcome, PipelineSettings, PipelineStatus
from ..cameras.shots import Shot
from ..cameras.source import FrameSource, SourceSettings
from ..cameras.tracker import Track
from ..consent.ledger import ConsentScope, current_state
from ..consent.ledger import list_events as list_consents
from ..errors import (
    AlreadyRegistered,
    CameraStreamConflict,
    InvalidArgument,
    NoFaceFound,
)
from ..images import Image
from ..liveness.passive import PassiveScorer
from ..matching import service as matching
from ..matching import stream as engine_steps
from ..matching.service import Identification
from ..organisation.models import SiteType
from ..policy import gate
from ..policy.decision import Operation
from ..policy.decision import Outcome as GateOutcome
from ..policy.facts import ProcessingRequest
from ..purposes.models import Mode, Purpose
from ..storage.connection import Connection
from .review import Review
from .streams import StreamSession, StreamSummary

__all__ = ["CameraState", "Cameras"]

log = logging.getLogger("facegate.cameras")

#: Seconds a process's hold on a stream lasts without a status report.
_LEASE = 15.0
#: The smallest passive live score a track's shot needs where a purpose requires liveness
#: (the liveness checker's ``passive_min``).
PASSIVE_MIN = 0.5
_TABLES = threading.Lock()


@dataclasses.dataclass(frozen=True, slots=True)
class CameraState:
    """A camera and how its stream goes: ``state`` (``idle``, ``connecting``, ``running``,
    ``reconnecting``, ``stopped``, ``ended``, ``refused``, ``failed``, or ``lost`` when the
    process running it stopped reporting), the session, its counts and the last error's
    code. Never a picture."""

    camera: Camera
    state: str
    session_id: str | None
    counts: dict[str, Any]
    error: str | None
    held_here: bool

    def as_dict(self) -> dict[str, Any]:
        c = self.camera
        return {"id": c.id, "site": c.site_key, "purposes": list(c.purposes),
                "mode": c.mode.value, "placement": c.placement.value, "label": c.label,
                "signage": c.signage, "source": c.source_shown, "state": self.state,
                "session": self.session_id, "counts": dict(self.counts), "error": self.error}


class Cameras(Review):
    """Cameras and their streams; part of :class:`~facegate.deployment.Deployment`."""

    _request: Callable[..., ProcessingRequest]
    _passive_scorer: Callable[[], PassiveScorer | None]
    _streams: dict[str, StreamSession]
    _streams_lock: threading.Lock

    def _stream_table(self) -> dict[str, StreamSession]:
        with _TABLES:
            if not hasattr(self, "_streams"):
                self._streams = {}
                self._streams_lock = threading.Lock()
        return self._streams

    # -- registration ----------------------------------------------------------------

    def register_camera(self, *, id: str, site: str, purposes: Iterable[str],
                        mode: Mode | str = Mode.IDENTIFY,
                        placement: SiteType | str | None = None, label: str = "",
                        signage: str | None = None, source: str | None = None,
                        operator: str = "system") -> Camera:
        """Register a camera at ``site`` for ``purposes`` (R12, R13, R1 through the gate).

        ``placement`` is the kind of space it captures (the site's type by default);
        ``signage`` the record of the sign posted where it captures (a public place
        needs it, R13); ``source`` its stream URL or ``/dev/videoN`` device, kept sealed
        and shown only redacted. Audited as ``camera-registered`` (the source redacted).

        Raises:
            PolicyRefusal: a private space (R12), a public place without a public-security
                purpose or a sign (R13), a purpose of another site or mode (R1).
            InvalidArgument: a malformed id, source, mode or placement; a verification
                camera (a claimed identity per person) is not offered by this release.
            AlreadyRegistered: the id is taken.
        """
        check_camera_id(id)
        keys = tuple(dict.fromkeys(purposes))
        if not 1 <= len(keys) <= MAX_PURPOSES:
            raise InvalidArgument(f"a camera serves 1 to {MAX_PURPOSES} purposes",
                                  details={"purposes": len(keys)})
        try:
            chosen = Mode(mode)
        except ValueError:
            raise InvalidArgument(f"unknown mode {mode!r}",
                                  details={"modes": [m.value for m in Mode]}) from None
        if chosen is not Mode.IDENTIFY:
            raise InvalidArgument(
                "this release runs identification cameras only: a verification camera "
                "needs a claimed identity per person (a card reader), which it does not take",
                details={"mode": chosen.value})
        if source is not None:
            check_source(source, files=False)
        if signage is not None and len(signage) > 500:
            raise InvalidArgument("signage is a short record (at most 500 characters)")
        with self._unit() as conn:
            where = self._site(conn, site)
            try:
                kind = SiteType(placement) if placement is not None else where.site_type
            except ValueError:
                raise InvalidArgument(f"unknown placement {placement!r}", details={
                    "placements": [t.value for t in SiteType]}) from None
            camera = Camera(id=id, site_key=site, purposes=keys, mode=chosen, placement=kind,
                            label=label.strip()[:200] or id,
                            signage=(signage or "").strip() or None,
                            source_shown=None if source is None else redact_source(source),
                            registered_at=self._clock.now())
            rows = [self._purpose(conn, k) for k in keys]
            if len({p.enrolling_pack() for p in rows}) > 1:
                raise InvalidArgument(
                    "a camera's purposes must run one model pack: its frames are searched "
                    "with one detector's faces", details={
                        "packs": sorted({p.enrolling_pack() for p in rows})})
            self._enforce(conn, gate.check_camera(camera, where, rows, self._profile(conn)),
                          "register-camera", operator=operator)
            if conn.execute("SELECT 1 FROM cameras WHERE id = ?", (id,)).fetchone():
                raise AlreadyRegistered(f"camera {id!r} is already registered",
                                        details={"camera": id})
            camera_store.insert_camera(conn, ring=self._keys.ring, camera=camera, source=source)
            self._audit(conn, "camera-registered", operator=operator, detail={
                "camera": id, "site": site, "purposes": list(keys), "mode": chosen.value,
                "placement": kind.value, "signage": camera.signage,
                "source": camera.source_shown})
        return camera

    def camera(self, camera_id: str) -> Camera:
        """The registered camera ``camera_id`` (:class:`~facegate.errors.CameraNotFound`)."""
        return camera_store.get_camera(self._conn, camera_id=camera_id)

    def cameras(self) -> list[Camera]:
        """Every camera in service, by id."""
        return camera_store.list_cameras(self._conn)

    def camera_states(self) -> list[CameraState]:
        """Every camera with its stream's state and counts (the store's, which every
        process of the service reports to)."""
        rows = camera_store.list_streams(self._conn)
        here = self._stream_table()
        out = []
        for cam in self.cameras():
            row = rows.get(cam.id)
            live = here.get(cam.id)
            if live is not None and not live.done:
                status = live.status()
                out.append(CameraState(camera=cam, state=status.state, session_id=live.id,
                                       counts=status.as_dict(), error=status.error,
                                       held_here=True))
                continue
            state = row.state if row else "idle"
            if (row is not None and row.holder is not None and row.lease_until is not None
                    and row.lease_until < time.time()):
                state = "lost"  # its process stopped reporting (ended without a word)
            out.append(CameraState(
                camera=cam, state=state,
                session_id=row.session_id if row else None,
                counts=dict(row.counts) if row else {}, error=row.error if row else None,
                held_here=False))
        return out

    # -- stream sessions -------------------------------------------------------------

    def watch(self, camera: str, *, source: str | None = None,
              settings: PipelineSettings | None = None,
              source_settings: SourceSettings | None = None, operator: str = "system",
              on_decision: Callable[[DecisionRecord], None] | None = None) -> StreamSession:
        """Start ``camera``'s stream in this process and return its running session.

        ``source`` (a URL, a ``/dev/videoN`` device or a video file) overrides the stored
        one. The gate is asked for every purpose the camera serves; a refusal is audited
        and raised. Audited as ``stream-started``; :meth:`StreamSession.stop` (or
        :meth:`stop_camera`) ends it with ``stream-stopped`` and the counts.

        Raises:
            PolicyRefusal: the gate refused the camera or one of its purposes.
            CameraNotFound: no such camera.
            CameraStreamConflict: its stream already runs (here or in another process
                whose hold has not lapsed), or it has no source.
            InvalidArgument: a malformed source.
        """
        table = self._stream_table()
        with self._reading() as conn:
            cam = camera_store.get_camera(conn, camera_id=camera)
            site = self._site(conn, cam.site_key)
            requests = [self._request(conn, Operation.IDENTIFY, key) for key in cam.purposes]
            stored = camera_store.open_source(conn, ring=self._keys.ring, camera_id=cam.id)
        passive = self._passive_scorer() is not None
        decision = gate.check_stream(cam, site, requests, passive_available=passive)
        if decision.outcome is GateOutcome.REFUSE:
            with self._unit() as conn:
                self._enforce(conn, decision, "stream-start", operator=operator)
        grants = gate.require_stream(cam, site, requests, passive_available=passive)
        chosen = source if source is not None else stored
        if chosen is None:
            raise CameraStreamConflict(f"camera {cam.id} has no stored source: give one",
                                       details={"camera": cam.id})
        frames = FrameSource(chosen, source_settings)
        session_id = uuid.uuid4().hex
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        with self._streams_lock:
            running = table.get(cam.id)
            if running is not None and not running.done:
                raise CameraStreamConflict(f"camera {cam.id}'s stream is already running",
                                           details={"camera": cam.id})
            with self._unit() as conn:
                row = camera_store.get_stream(conn, camera_id=cam.id)
                if (row is not None and row.holder is not None and row.lease_until is not None
                        and row.lease_until >= time.time()):
                    raise CameraStreamConflict(
                        f"camera {cam.id}'s stream is running in another process",
                        details={"camera": cam.id})
                camera_store.put_stream(conn, camera_id=cam.id, wanted="run",
                                        requested_by=operator, state="running",
                                        at=self._clock.now(), holder=holder,
                                        lease_until=time.time() + _LEASE,
                                        session_id=session_id)
                self._audit(conn, "stream-started", operator=operator, detail={
                    "camera": cam.id, "session": session_id, "site": cam.site_key,
                    "purposes": list(cam.purposes), "mode": cam.mode.value,
                    "source": frames.shown})
            session = StreamSession(self, camera=cam,
                                    purposes=[r.purpose for r in requests
                                              if r.purpose is not None],
                                    grants=grants, source=frames, session_id=session_id,
                                    operator=operator, holder=holder,
                                    started_at=self._clock.now(),
                                    settings=settings or PipelineSettings(),
                                    on_decision=on_decision)
            table[cam.id] = session
        session.start()
        log.info(json.dumps({"event": "camera", "camera": cam.id, "session": session_id,
                             "state": "started", "source": frames.shown}))
        return session

    def stop_camera(self, camera: str, *, operator: str = "system",
                    timeout: float = 30.0) -> StreamSummary | None:
        """Stop ``camera``'s stream: at once when it runs in this process (its summary is
        returned), else by asking its holder, which stops at its next status report.

        Raises:
            CameraNotFound: no such camera.
            CameraStreamConflict: its stream is not running.
        """
        cam = self.camera(camera)
        live = self._stream_table().get(cam.id)
        if live is not None and not live.done:
            return live.stop(operator=operator, timeout=timeout)
        with self._unit() as conn:
            row = camera_store.get_stream(conn, camera_id=cam.id)
            if row is None or row.holder is None or row.wanted != "run":
                raise CameraStreamConflict(f"camera {cam.id}'s stream is not running",
                                           details={"camera": cam.id})
            conn.execute("UPDATE camera_streams SET wanted = 'stop', requested_by = ? "
                         "WHERE camera_id = ?", (operator, cam.id))
        return None

    def close(self) -> None:
        """Stop every stream this process runs (each records its end), then close."""
        self.stop_all_cameras(operator="system:close")
        super().close()

    def stop_all_cameras(self, *, operator: str = "system") -> list[StreamSummary]:
        """Stop every stream this process runs (a service shutting down)."""
        out = []
        for session in list(self._stream_table().values()):
            if not session.done:
                summary = session.stop(operator=operator, why="shutdown")
                if summary is not None:
                    out.append(summary)
        return out

    # -- what a session calls ----------------------------------------------------------

    def _stream_tick(self, session: StreamSession, status: PipelineStatus) -> bool:
        """A running session's report: its counts and a renewed hold; false when it must
        stop (stopped from another process, or its hold taken over)."""
        with self._unit() as conn:
            row = camera_store.update_stream(
                conn, camera_id=session.camera.id, holder=session.holder, state=status.state,
                lease_until=time.time() + _LEASE, at=self._clock.now(),
                counts=status.as_dict(), error=status.error or status.source.error)
        if row is None:
            session.why = session.why or "taken-over"
            return False
        if row.wanted == "stop":
            session.why = session.why or "stopped"
            session.stop_operator = session.stop_operator or row.requested_by
            return False
        return True

    def _end_stream(self, session: StreamSession, status: PipelineStatus) -> StreamSummary:
        """Record the end of a session once: ``stream-stopped`` with its counts."""
        why = session.why or {"ended": "source-ended", "refused": "refused",
                              "failed": "failed"}.get(status.state, "stopped")
        counts = status.counts.as_dict()
        src = status.source
        ended_at = self._clock.now()
        operator = session.stop_operator or session.operator
        with self._unit() as conn:
            camera_store.update_stream(
                conn, camera_id=session.camera.id, holder=session.holder,
                state="stopped" if status.state in ("running", "reconnecting") else status.state,
                lease_until=None, at=ended_at, counts=status.as_dict(),
                error=status.error or src.error, release=True, wanted="stop")
            self._audit(conn, "stream-stopped", operator=operator, detail={
                "camera": session.camera.id, "session": session.id, "why": why,
                "started_at": session.started_at.isoformat(), "counts": counts,
                "connections": src.connections, "reconnects": src.reconnects,
                "dropped_frames": src.dropped, "error": status.error or src.error})
        log.info(json.dumps({"event": "camera", "camera": session.camera.id,
                             "session": session.id, "state": "stopped", "why": why,
                             **counts}))
        return StreamSummary(session_id=session.id, camera_id=session.camera.id, why=why,
                             started_at=session.started_at, ended_at=ended_at,
                             counts=counts)

    def _decide_identify(self, session: StreamSession, track: Track, shot: Shot) -> Decided:
        """Decide a track on its shot: for each purpose, describe, check the passive
        liveness score where required, ask the gate again, search. A stranger leaves
        nothing; a hit is audited (``camera-match``) or becomes a review case."""
        picture = Image(pixels=shot.pixels, source_format="camera")
        embeddings = 0
        outcome = Outcome.NO_MATCH
        subject: str | None = None
        for purpose in session.purposes:
            grant = session.grants[purpose.key]
            if purpose.liveness_required:
                scorer = self._passive_scorer()
                if scorer is None or scorer.score(shot.pixels, shot.face.box) < PASSIVE_MIN:
                    return Decided(outcome=Outcome.LIVENESS, final=False, embeddings=embeddings)
            pack = purpose.enrolling_pack()
            with self._inference(pack):
                faces = engine_steps.describe_faces(
                    grant, analyzer=self.analyzer_for(pack), purpose=purpose, image=picture,
                    faces=[shot.face])
            embeddings += 1
            if not faces:
                return Decided(outcome=Outcome.UNDECIDED, final=False, embeddings=embeddings)
            found = self._search(session, purpose, picture, {pack: faces}, track)
            if found is not None:
                outcome, subject = found
                break
        return Decided(outcome=outcome, final=outcome in (Outcome.MATCH, Outcome.REVIEW),
                       embeddings=embeddings, subject=subject)

    def _search(self, session: StreamSession, purpose: Purpose, picture: Image,
                described: dict[str, list[Any]], track: Track
                ) -> tuple[Outcome, str | None] | None:
        """The search of one purpose's gallery for a track's described face, in one unit:
        ``None`` for nobody (and nothing written)."""
        now = self._clock.now()
        with self._unit() as conn:
            req = self._request(conn, Operation.IDENTIFY, purpose.key)
            decision = gate.check(req)
            self._enforce(conn, decision, "camera-identify", operator=session.operator,
                          purpose_key=purpose.key)
            grant = gate.require(req)
            assert req.purpose is not None
            try:
                with self._galleries.lock:
                    result = matching.identify(
                        grant, conn=conn, keys=self._data_keys(conn),
                        analyzers=self.analyzer_for, image=picture, purpose=req.purpose,
                        now=now, limit=1, galleries=self._galleries, described=described,
                        calibrations={req.purpose.pack: req.calibration,
                                      **({req.purpose.next_pack: req.next_calibration}
                                         if req.purpose.next_pack else {})})
                    self._report_galleries()
            except NoFaceFound:
                return None
            result = self._consenting(conn, result, session.operator)
            if result.no_match:
                return None  # a stranger: nothing of it is written
            result = self._session(conn, req.purpose, result, picture, session.operator)
            best = result.faces[0].candidates[0]
            if best.review_case is not None:
                return Outcome.REVIEW, best.subject_id
            self._audit(conn, "camera-match", operator=session.operator,
                        purpose_key=purpose.key, subject_id=best.subject_id, outcome="match",
                        detail={"camera": session.camera.id, "session": session.id,
                                "identification": result.session_id, "track": track.id,
                                "pack": best.pack})
            return Outcome.MATCH, best.subject_id

    def _consenting(self, conn: Connection, result: Identification,
                    operator: str) -> Identification:
        """Only candidates with live biometric consent (R2, R4); a dropped one is audited."""
        profile = self._profile(conn)
        faces = []
        for face in result.faces:
            live = []
            for c in face.candidates:
                decision = gate.check_candidate(
                    profile, subject_id=c.subject_id, purpose_key=result.purpose_key,
                    consent=current_state(list_consents(
                        conn, guard=self._guard(conn), subject_id=c.subject_id,
                        purpose_key=result.purpose_key, scope=ConsentScope.BIOMETRIC)))
                if decision.allowed:
                    live.append(c)
                    continue
                first = decision.reasons[0]
                self._audit(conn, "refusal", operator=operator, purpose_key=result.purpose_key,
                            subject_id=c.subject_id, outcome=first.code, rule=first.rule,
                            detail={"action": "camera-candidate"})
            faces.append(dataclasses.replace(face, candidates=tuple(live)))
        return dataclasses.replace(result, faces=tuple(faces))
