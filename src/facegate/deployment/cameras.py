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
from ..cameras.claims import Claim, check_window
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
from ..matching.service import Identification, Probe
from ..organisation.models import SiteType
from ..policy import gate
from ..policy.decision import Operation
from ..policy.decision import Outcome as GateOutcome
from ..policy.facts import ProcessingRequest
from ..purposes.models import Mode, Purpose
from ..storage.connection import Connection
from ..subjects.repository import get_subject_by_ref
from ..templates.store import template_packs
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
#: Seconds a claimed identity waits for a face by default.
DEFAULT_WINDOW = 10.0


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
    _quality_floor: Callable[..., Any]
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
            InvalidArgument: a malformed id, source, mode or placement.
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
            operation = Operation.VERIFY if cam.mode is Mode.VERIFY else Operation.IDENTIFY
            requests = [self._request(conn, operation, key) for key in cam.purposes]
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

    def claim(self, camera: str, *, subject: str, purpose: str | None = None,
              window: float = DEFAULT_WINDOW, operator: str = "system") -> Claim:
        """A claimed identity for verification camera ``camera``: ``subject`` (the subject's
        external reference, from a card or PIN, or its pseudonymous id) says who is about
        to pass, for ``purpose`` (the camera's only purpose by default), valid ``window``
        seconds. The first track decided in that window is compared 1:1 with this subject
        alone and uses the claim up: ``camera-match`` (``door.open``) on a match, else
        ``camera-claim-refused`` (``door.refused``); no face in the window:
        ``camera-claim-refused`` with outcome ``expired``.

        The gate is asked first, as for a verification of this subject (consent, the
        purpose's state and calibration...; liveness is judged on the track's shot): a
        refusal is audited with its rule and raised. Audited as ``camera-claim``.

        Raises:
            PolicyRefusal: the gate refused (consent withdrawn: ``consent.missing``, R2).
            InvalidArgument: an identification camera, a purpose the camera does not
                serve, a window outside 0.5-60 s.
            SubjectNotFound: nobody has that reference or id.
            CameraNotFound: no such camera.
            CameraStreamConflict: its stream does not run in this process.
        """
        window = check_window(window)
        cam = self.camera(camera)
        if cam.mode is not Mode.VERIFY:
            raise InvalidArgument(f"camera {cam.id} identifies; only a verification camera "
                                  "takes a claimed identity", details={"camera": cam.id})
        key = purpose if purpose is not None else cam.purposes[0]
        if key not in cam.purposes or (purpose is None and len(cam.purposes) > 1):
            raise InvalidArgument(f"name one of camera {cam.id}'s purposes for the claim",
                                  details={"purposes": list(cam.purposes)})
        with self._reading() as conn:
            person = get_subject_by_ref(conn, external_ref=subject)
            subject_id = person.id if person is not None else self._subject(conn, subject).id
            req = self._request(conn, Operation.VERIFY, key, subject_id=subject_id)
        # the face's liveness is the passive score of the track's shot, judged when the
        # claim is decided; here every other rule of a verification of this subject
        decision = gate.check(dataclasses.replace(req, liveness="passed"))
        if decision.outcome is GateOutcome.REFUSE:
            with self._unit() as conn:
                self._enforce(conn, decision, "camera-claim", operator=operator,
                              purpose_key=key, subject_id=subject_id)
        session = self._stream_table().get(cam.id)
        if session is None or session.done or session.claims is None:
            raise CameraStreamConflict(f"camera {cam.id}'s stream is not running in this "
                                       "process; send the claim to the one that runs it",
                                       details={"camera": cam.id})
        claim = Claim.new(subject_id=subject_id, purpose_key=key, operator=operator,
                          window=window, now=time.monotonic())
        with self._unit() as conn:
            self._audit(conn, "camera-claim", operator=operator, purpose_key=key,
                        subject_id=subject_id, detail={
                            "camera": cam.id, "session": session.id, "claim": claim.id,
                            "window": window})
        session.claims.add(claim)
        return claim

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

    def _decide_verify(self, session: StreamSession, track: Track, shot: Shot,
                       claim: Claim) -> Decided:
        """Decide a track of a verification camera on its shot against ``claim``'s subject
        alone: the passive liveness score where the purpose requires it (refused below
        ``PASSIVE_MIN``, H1, by the gate), the gate for a verification of that subject
        (its consent now, the purpose's calibrated threshold), describe, compare. One
        entry per claim: ``camera-match`` (``door.open``) or ``camera-claim-refused``."""
        purpose = next(p for p in session.purposes if p.key == claim.purpose_key)
        picture = Image(pixels=shot.pixels, source_format="camera")
        live = "passed"
        if purpose.liveness_required:
            scorer = self._passive_scorer()
            if scorer is None or scorer.score(shot.pixels, shot.face.box) < PASSIVE_MIN:
                live = "passive_refused"
        with self._reading() as conn:
            req = dataclasses.replace(self._request(conn, Operation.VERIFY, purpose.key,
                                                    subject_id=claim.subject_id), liveness=live)
            held = template_packs(conn, subject_id=claim.subject_id, purpose_key=purpose.key,
                                  now=self._clock.now())
        probes: dict[str, Probe] = {}
        if gate.check(req).allowed:
            grant = gate.require(req)
            for pack in [p for p in purpose.packs_in_use(self._clock.now()) if p in held]:
                with self._inference(pack):
                    probe = engine_steps.describe_claimed(
                        grant, analyzer=self.analyzer_for(pack), purpose=purpose,
                        subject_id=claim.subject_id, image=picture, face=shot.face)
                if probe is not None:
                    probes[pack] = probe
        with self._unit() as conn:
            req = dataclasses.replace(self._request(conn, Operation.VERIFY, purpose.key,
                                                    subject_id=claim.subject_id), liveness=live)
            decision = gate.check(req)
            detail: dict[str, Any] = {"camera": session.camera.id, "session": session.id,
                                      "claim": claim.id, "track": track.id, "mode": "verify"}
            if decision.outcome is GateOutcome.REFUSE:
                first = decision.reasons[0]
                self._audit(conn, "refusal", operator=session.operator, outcome=first.code,
                            purpose_key=purpose.key, subject_id=claim.subject_id,
                            rule=first.rule, detail={"action": "camera-verify",
                                                     "message": first.message})
                outcome = Outcome.LIVENESS if live != "passed" else Outcome.REFUSED
                self._audit(conn, "camera-claim-refused", operator=session.operator,
                            purpose_key=purpose.key, subject_id=claim.subject_id,
                            outcome=outcome.value, rule=first.rule, detail=detail)
                return Decided(outcome=outcome, final=True, embeddings=len(probes))
            grant = gate.require(req)
            current = req.purpose  # the purpose as it stands now (threshold, packs)
            assert current is not None
            if not probes:
                result = None
            else:
                result = matching.verify(
                    grant, conn=conn, keys=self._data_keys(conn), analyzers=self.analyzer_for,
                    image=picture, purpose=current, subject_id=claim.subject_id,
                    now=self._clock.now(),
                    threshold=lambda pack, count: self._templates_threshold(
                        current, pack, count, req.calibration if pack == current.pack
                        else req.next_calibration),
                    quality=lambda pack: self._quality_floor(current, pack, req),
                    probes=probes)
            if result is not None and result.matched:
                self._audit(conn, "camera-match", operator=session.operator,
                            purpose_key=purpose.key, subject_id=claim.subject_id,
                            outcome="match", detail={**detail, "pack": result.pack})
                return Decided(outcome=Outcome.MATCH, final=True, embeddings=len(probes),
                               subject=claim.subject_id)
            outcome = (Outcome.NO_MATCH if result is not None and result.decided
                       else Outcome.UNDECIDED)
            self._audit(conn, "camera-claim-refused", operator=session.operator,
                        purpose_key=purpose.key, subject_id=claim.subject_id,
                        outcome=outcome.value, detail=detail)
        return Decided(outcome=outcome, final=True, embeddings=len(probes))

    def _claims_expired(self, session: StreamSession, claims: list[Claim]) -> None:
        """Claims no face took within their window: ``camera-claim-refused``, ``expired``."""
        if not claims:
            return
        with self._unit() as conn:
            for claim in claims:
                self._audit(conn, "camera-claim-refused", operator=session.operator,
                            purpose_key=claim.purpose_key, subject_id=claim.subject_id,
                            outcome="expired", detail={
                                "camera": session.camera.id, "session": session.id,
                                "claim": claim.id, "mode": "verify"})

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
