"""What every part of :class:`~facegate.deployment.Deployment` shares.

The connections (one per thread), the key store, the injected clock and id
source, the jurisdiction profile, one-transaction-per-call, the bounded pools
for inference and slow work, and the audit of refusals.

Calls on several threads run at once. Each thread has its own store connection
(:class:`~facegate.storage.threads.ThreadConnections`); every write is one
transaction holding the store's writer lock, so the audit chain stays one
gap-free sequence. The engine runs outside that lock, under a grant, in at
most :attr:`DeploymentBase.inference_workers` threads at a time; decoding a
liveness video and evaluating a pack run at most :attr:`DeploymentBase.slow_workers`
at a time.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, Self

from ..analysis import FaceAnalyzer
from ..audit.integrity import RowGuard, check_head, check_open
from ..audit.trail import AuditEvent, record_event
from ..calibration.models import Calibration
from ..calibration.repository import get_calibration
from ..calibration.shipped import ShippedCalibration, shipped_calibration
from ..clock import Clock
from ..crypto.keyfile import KeyStore
from ..engine.pack_install import find_pack
from ..errors import (
    AuditChainBroken,
    CryptoError,
    InvalidArgument,
    PolicyRefusal,
    ProcessorNotRegistered,
    PurposeNotRegistered,
    SiteNotFound,
    StoreTampered,
    SubjectNotFound,
)
from ..events.catalogue import Entry, event_for, in_scope
from ..events.store import enqueue, list_endpoints
from ..jurisdictions import JurisdictionProfile, get_profile
from ..matching.gallery import Galleries
from ..organisation.models import Site
from ..organisation.repository import get_processor, get_site
from ..policy.decision import Decision, Outcome
from ..purposes.models import Assessment, Purpose
from ..purposes.repository import get_purpose, list_assessments
from ..purposes.statements import Setting
from ..review.store import get_settings
from ..storage.connection import Connection
from ..storage.db import ChangeWatcher, data_version, notify, snapshot, transaction
from ..storage.threads import ThreadConnections
from ..subjects.models import Subject
from ..subjects.repository import get_subject
from ..templates.keys import DataKeys

__all__ = ["DeploymentBase", "Observer", "new_subject_id"]


class Observer(Protocol):
    """What a deployment reports about its own work (the service turns it into metrics).

    Never given biometric data, subject ids or keys: only stage names, pack ids, purpose
    keys, counts and seconds.
    """

    def timed(self, stage: str, pack: str, seconds: float) -> None:
        """``stage`` (``inference``, ``video``, ``evaluation``...) took ``seconds``."""

    def waiting(self, pool: str, depth: int) -> None:
        """``depth`` calls wait for (or run in) the bounded pool ``pool`` now."""

    def gallery(self, purpose: str, pack: str, templates: int) -> None:
        """The in-memory index of ``purpose``/``pack`` holds ``templates`` templates."""


class _Quiet:
    def timed(self, stage: str, pack: str, seconds: float) -> None:
        pass

    def waiting(self, pool: str, depth: int) -> None:
        pass

    def gallery(self, purpose: str, pack: str, templates: int) -> None:
        pass


class _Pool:
    """A bounded pool: at most ``size`` callers inside at once, the others wait."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.depth = 0

    @contextmanager
    def slot(self, observer: Observer) -> Iterator[None]:
        with self._lock:
            self.depth += 1
            depth = self.depth
        observer.waiting(self.name, depth)
        try:
            with self._slots:
                yield
        finally:
            with self._lock:
                self.depth -= 1
                depth = self.depth
            observer.waiting(self.name, depth)


def new_subject_id() -> str:
    """A fresh pseudonymous subject id: ``s_`` and 16 random hex digits."""
    return "s_" + secrets.token_hex(8)


class DeploymentBase:
    """State and helpers; see :class:`~facegate.deployment.Deployment` for the API."""

    def __init__(self, conn: Connection, *, keys: KeyStore, clock: Clock,
                 analyzer_factory: Callable[[], FaceAnalyzer],
                 ids: Callable[[], str], warning_share: float | None = None,
                 reconnect: Callable[[], Connection] | None = None,
                 inference_workers: int | None = None, slow_workers: int = 1,
                 engine_threads: int | None = None) -> None:
        if warning_share is not None and not 0.0 < warning_share <= 1.0:
            raise InvalidArgument("warning_share must lie in (0, 1]",
                                  details={"warning_share": warning_share})
        workers = inference_workers or os.cpu_count() or 1
        if workers < 1 or slow_workers < 1:
            raise InvalidArgument("pools need at least one worker",
                                  details={"inference_workers": workers,
                                           "slow_workers": slow_workers})
        self._warning_share = warning_share
        self._engine_threads = engine_threads
        self._connections = ThreadConnections(conn, reconnect)
        self._keys = keys
        #: the engine runs in at most this many threads at once (the cores, by default)
        self._inference_pool = _Pool("inference", workers)
        #: video decoding and pack evaluation, at most this many at once
        self._slow_pool = _Pool("slow", slow_workers)
        #: what the deployment reports about its work (metrics); quiet by default
        self.observer: Observer = _Quiet()
        #: serialises key rotations within this process (the key file is locked too)
        self._rotation = threading.Lock()
        self._building = threading.Lock()  # guards building the analyzers once
        self._clock = clock
        self._analyzer_factory = analyzer_factory
        self._analyzer: FaceAnalyzer | None = None
        self._pack_analyzers: dict[str, FaceAnalyzer] = {}
        #: the in-memory gallery indexes (decrypted templates; never written anywhere)
        self._galleries = Galleries()
        self._ids = ids
        #: the store is a PostgreSQL server shared by several processes (R8)
        self._central = False
        self._location = ""
        #: what was opened (a path or a URL with its password), for further connections
        self._target = ""
        #: subjects the erasure ledger erased again when the store was opened
        self.reapplied_erasures: list[str] = []
        #: per thread: SQLite's data_version of its connection when the store was last
        #: checked (another connection's commit changes it; see :meth:`_unit`)
        self._checked = threading.local()
        #: what :meth:`check_store` found wrong with the store; every later write refuses
        self._tampered: StoreTampered | None = None

    @property
    def _conn(self) -> Connection:
        """The calling thread's store connection."""
        return self._connections.get()

    @property
    def inference_workers(self) -> int:
        """How many threads may run the engine at once."""
        return self._inference_pool.size

    @property
    def slow_workers(self) -> int:
        """How many slow jobs (video decoding, evaluation) may run at once."""
        return self._slow_pool.size

    @contextmanager
    def _inference(self, pack: str) -> Iterator[None]:
        """Run engine work in the bounded inference pool, timed for the observer."""
        with self._inference_pool.slot(self.observer):
            started = time.perf_counter()
            try:
                yield
            finally:
                self.observer.timed("inference", pack, time.perf_counter() - started)

    @contextmanager
    def _slow_work(self, stage: str) -> Iterator[None]:
        """Run slow work (video decoding, evaluation) in its own bounded pool."""
        with self._slow_pool.slot(self.observer):
            started = time.perf_counter()
            try:
                yield
            finally:
                self.observer.timed(stage, "-", time.perf_counter() - started)

    @property
    def central_store(self) -> bool:
        """The store is central (PostgreSQL), not on the device: enrollment there is for
        central purposes and subjects who gave transfer consent only (R8)."""
        return self._central

    @property
    def opened_as(self) -> tuple[str, str | None]:
        """What was opened: the store (a path, or the URL with its password) and the key file
        (``None``: the keys come from the environment); for a process of the same service
        that opens the same store (the report processes)."""
        path = self._keys.path
        return self._target, None if path is None else str(path)

    @property
    def location(self) -> str:
        """Where the store is: the SQLite path, or the PostgreSQL URL without its password."""
        return self._location

    @property
    def analyzer(self) -> FaceAnalyzer:
        """The face analyzer given at open (or the default pack's); built on first use."""
        if self._analyzer is None:
            with self._building:
                if self._analyzer is None:
                    self._analyzer = self._analyzer_factory()
        return self._analyzer

    def analyzer_for(self, pack: str) -> FaceAnalyzer:
        """The analyzer of model pack ``pack``: the one given at open when it runs that
        pack, else one built for the pack (with the same settings) on first use.

        Raises:
            ModelPackUnknown: no such pack.
            ModelPackMissing: (on first use) the pack is not installed.
        """
        if self.analyzer.pack.id == pack:
            return self.analyzer
        found = self._pack_analyzers.get(pack)
        if found is None:
            settings = self.analyzer.settings
            with self._building:
                found = self._pack_analyzers.get(pack)
                if found is None:
                    found = FaceAnalyzer.for_pack(pack, settings=settings,
                                                  threads=self._engine_threads)
                    self._pack_analyzers[pack] = found
        return found

    def close(self) -> None:
        """Close the store (every thread's connection)."""
        self._connections.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _unit(self, *, serialise: bool = True) -> Iterator[Connection]:
        """The one transaction of a service call; a policy refusal still commits its record.

        Sealed data that does not open (a moved or altered row, a missing key) or a
        row whose tag does not verify rolls the call back and is then recorded as an
        ``integrity-failure`` entry of its own (R16: failed access is audited).
        ``serialise=False`` (on PostgreSQL: row locks only, not the store's writer lock)
        is for writes that append nothing to the audit log.

        On SQLite, before a serialised unit (one that records in the audit log), when
        another connection (another thread's or process's) has committed since this
        thread's connection last checked, the store's head is checked again first
        (:func:`facegate.audit.integrity.check_head`: the log's last entry, and the
        tables' row counts and tag sums against the signed checkpoint), so a row
        deleted, added or swapped behind the service's back is found before the call
        trusts the store; every row a call reads is checked by its tag, and
        :meth:`check_store` reads them all.
        """
        own = self._conn
        if serialise and self._tampered is not None:
            raise self._tampered
        version = data_version(own) if serialise else None
        if version is not None and version != getattr(self._checked, "version", None):
            check_head(own, signer=self._keys.signer, mac=self._keys.rows)
            self._checked.version = version
        try:
            with transaction(own, commit_on=(PolicyRefusal,), serialise=serialise) as conn:
                yield conn
        except (CryptoError, StoreTampered) as exc:
            if not own.in_transaction and not isinstance(exc, AuditChainBroken):
                with transaction(own) as conn:
                    self._audit(conn, "integrity-failure", operator="system",
                                outcome=exc.code, detail={"message": exc.message})
            raise

    def check_store(self) -> None:
        """Every check an open makes, now, on every row (the service runs it on a schedule,
        ``facegate serve --integrity-interval``): each protected row's tag, the tables'
        state against the signed checkpoint, the log's head. What a running service checks
        before each write is cheaper (the head, row counts and tag sums, and the tag of
        every row a call reads); this finds a row edited in place that no call has read.

        A failure marks the deployment: every later write (every biometric call, consent,
        enrollment) is refused with the same error until the store is opened again, while
        reads (the audit log, the dashboard showing the break) still answer.

        Raises:
            StoreTampered: the first bad row (:class:`~facegate.errors.AuditChainBroken`
                for the log).
        """
        try:
            check_open(self._conn, signer=self._keys.signer, mac=self._keys.rows)
        except StoreTampered as exc:
            self._tampered = exc
            raise

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """Reads that see the store at one moment, without the writer lock (joins an
        open transaction)."""
        with snapshot(self._conn) as conn:
            yield conn

    def refresh_galleries(self) -> int:
        """Bring the in-memory gallery indexes up to the store's latest committed changes
        (other processes' enrollments, withdrawals, erasures and sweeps included); returns
        how many changes were applied. The service's background follower calls it when
        another process commits; identification does it itself under the writer lock.
        Inside an open transaction it does nothing (what it would see may roll back)."""
        if self._conn.in_transaction:
            return 0
        with self._reading() as conn:
            applied = self._galleries.sync(conn, keys=self._data_keys(conn),
                                           now=self._clock.now())
        if applied:
            self._report_galleries()
        return applied

    def _report_galleries(self) -> None:
        for (purpose, pack, _), size in self._galleries.sizes().items():
            self.observer.gallery(purpose, pack, size)

    def watch_changes(self) -> ChangeWatcher:
        """A watcher that wakes when another connection (thread or process) commits to the
        store (SQLite ``data_version``; PostgreSQL ``LISTEN``/``NOTIFY``); the caller
        closes it."""
        return ChangeWatcher(self._target)

    def _data_keys(self, conn: Connection) -> DataKeys:
        """The subjects' data keys for one unit of work (with its row guard)."""
        return DataKeys(conn, ring=self._keys.ring, now=self._clock.now(),
                        guard=self._guard(conn))

    def _guard(self, conn: Connection) -> RowGuard:
        """Tags for the template and consent rows one unit of work writes and reads."""
        return RowGuard(conn, self._keys.rows)

    def _profile(self, conn: Connection) -> JurisdictionProfile:
        processor = get_processor(conn)
        if processor is None:
            raise ProcessorNotRegistered("register the processor first (facegate init)")
        profile = get_profile(processor.jurisdiction)
        if self._warning_share is None:
            return profile
        return dataclasses.replace(profile, early_warning_share=self._warning_share)

    def _audit(self, conn: Connection, name: str, *, operator: str, outcome: str = "ok",
               purpose_key: str | None = None, subject_id: str | None = None,
               rule: str | None = None, detail: Mapping[str, Any] | None = None) -> int:
        """Append an entry to the audit log and offer it, as an event, to every webhook
        endpoint whose audience and scope take it (the outbox row commits with it)."""
        event = AuditEvent(name=name, at=self._clock.now(), operator=operator, outcome=outcome,
                           purpose_key=purpose_key, subject_id=subject_id, rule=rule,
                           detail=detail or {})
        seq = record_event(conn, signer=self._keys.signer, mac=self._keys.rows,
                           event=event)
        self._fan_out(conn, seq, event)
        return seq

    def _fan_out(self, conn: Connection, seq: int, event: AuditEvent) -> None:
        endpoints = list_endpoints(conn, active_only=True)
        if not endpoints:
            return
        entry = Entry(seq=seq, at=event.at.isoformat(), name=event.name, operator=event.operator,
                      outcome=event.outcome, purpose=event.purpose_key,
                      subject=event.subject_id, rule=event.rule, detail=dict(event.detail))
        site_of: dict[str, str] = {}
        if any(e.sites is not None for e in endpoints):
            site_of = {str(r[0]): str(r[1])
                       for r in conn.execute("SELECT key, site_key FROM purposes")}
        queued = 0
        for endpoint in endpoints:
            if not in_scope(entry, purposes=endpoint.purposes, sites=endpoint.sites,
                            site_of=site_of):
                continue
            offered = event_for(entry, endpoint.audience, types=endpoint.types)
            if offered is not None:
                enqueue(conn, endpoint_id=endpoint.id, event=offered, now=event.at,
                        first_attempt=time.time())
                queued += 1
        if queued:
            notify(conn, "events")

    def _enforce(self, conn: Connection, decision: Decision, action: str, *,
                 operator: str, purpose_key: str | None = None,
                 subject_id: str | None = None) -> None:
        """Raise the decision's refusal after recording it in the trail."""
        if decision.outcome is not Outcome.REFUSE:
            return
        error = decision.error()
        self._audit(conn, "refusal", operator=operator, outcome=error.code,
                    purpose_key=purpose_key, subject_id=subject_id, rule=error.rule,
                    detail={"action": action, "message": error.message})
        raise error

    def _purpose(self, conn: Connection, key: str) -> Purpose:
        purpose = get_purpose(conn, key=key)
        if purpose is None:
            profile = self._profile(conn)
            raise PurposeNotRegistered(
                f"purpose {key!r} is not registered",
                details={"rule": "R1", "jurisdiction": profile.key,
                         "article": profile.article("R1")})
        return purpose

    def _site(self, conn: Connection, key: str) -> Site:
        site = get_site(conn, key=key)
        if site is None:
            raise SiteNotFound(f"site {key!r} is not registered", details={"site": key})
        return site

    def _subject(self, conn: Connection, subject_id: str) -> Subject:
        subject = get_subject(conn, id=subject_id)
        if subject is None:
            raise SubjectNotFound(f"subject {subject_id!r} is not registered",
                                  details={"subject": subject_id})
        return subject

    @staticmethod
    def _shipped(purpose: Purpose, pack: str) -> ShippedCalibration | None:
        """``pack``'s shipped calibration for the population ``purpose`` serves, if any."""
        found = find_pack(pack)
        return shipped_calibration(found.id, found.version, purpose.population)

    def _threshold(self, purpose: Purpose, pack: str) -> float:
        """The decision distance of ``purpose`` for ``pack``: its own (calibrated, or set by
        hand), else the pack's shipped calibration for its population, else (only where
        the gate allowed it: a deployer's own pack) the pack's declared default."""
        own = purpose.threshold_for(pack)
        if own is not None:
            return own
        shipped = self._shipped(purpose, pack)
        return shipped.threshold if shipped is not None else find_pack(pack).default_threshold

    def _templates_threshold(self, purpose: Purpose, pack: str, templates: int,
                             calibration: Calibration | None) -> tuple[float, int]:
        """The threshold for a subject holding ``templates`` templates of ``pack``, and how
        many of them (the newest) are compared: the calibration's threshold at its target
        FMR divided by their number, so that several enrollment photos do not raise the
        false-match rate; as many templates as the calibration's pairs can show that for
        (one at least). A threshold set by hand is used as it is, with every template."""
        single = self._threshold(purpose, pack)
        source: Calibration | ShippedCalibration | None
        if calibration is not None and calibration.pack == pack:
            source = calibration
        elif purpose.threshold_for(pack) is None:
            source = self._shipped(purpose, pack)
        else:
            return single, templates
        if source is None:
            return single, templates
        for used in range(templates, 1, -1):
            found = source.threshold_for(used)
            if found is not None:
                return min(single, found), used
        return single, 1

    @staticmethod
    def _calibration(conn: Connection, calibration_id: int | None) -> Calibration | None:
        if calibration_id is None:
            return None
        return get_calibration(conn, id=calibration_id)

    def _assessment_current(self, conn: Connection, purpose: Purpose) -> bool:
        return self._current_assessment(conn, purpose) is not None

    def _setting(self, conn: Connection, purpose: Purpose) -> Setting:
        """The records ``purpose``'s notice and assessment statements are generated from."""
        processor = get_processor(conn)
        if processor is None:
            raise ProcessorNotRegistered("register the processor first (facegate init)")
        return Setting(purpose=purpose, site=self._site(conn, purpose.site_key),
                       processor=processor,
                       reviewers=self._reviewers_required(conn, purpose.key))

    def _reviewers_required(self, conn: Connection, purpose_key: str) -> int | None:
        """The distinct reviewers who confirm a hit of the purpose; ``None`` when its hits
        are not reviewed."""
        review = get_settings(conn, purpose_key=purpose_key)
        return review.reviewers_required(self._profile(conn).reviewers_required) \
            if review else None

    def _current_assessment(self, conn: Connection, purpose: Purpose) -> Assessment | None:
        """The latest assessment that still describes ``purpose``, if any."""
        current = [a for a in list_assessments(conn, purpose_key=purpose.key)
                   if a.is_current_for(purpose)]
        return current[-1] if current else None
