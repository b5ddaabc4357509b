"""The deployment: the library API a deployer uses.

A :class:`Deployment` is one SQLite file holding the processor's books and
its templates. Every biometric call (``enroll``, ``verify``, ``identify``,
``export_templates``) gathers the facts, asks the policy gate for a
:class:`~facegate.policy.decision.Grant` and hands that grant to the service
that does the work, all in one transaction. Example::

    with Deployment.open("facegate.db") as d:
        d.register_processor(name="Acme", contact="dpo@acme.example",
                             credit_code="91310000XXXXXXXXXX")
        ...
        d.enroll(subject=s.id, purpose="access.office.entry", image="alice.jpg")
        d.verify(subject=s.id, purpose="access.office.entry", image="alice-2.jpg")
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..analysis import FaceAnalyzer
from ..audit.trail import AuditEvent, event_names, list_events
from ..clock import Clock, SystemClock
from ..consent.alternatives import AlternativeRoute
from ..consent.ledger import ConsentKind, ConsentScope, current_state
from ..consent.ledger import list_events as list_consents
from ..crypto.keyfile import ENV_AUDIT_KEY, ENV_KEK, KeyStore
from ..crypto.keyring import KeyRing, RowMac
from ..engine.base import Engine
from ..engine.selection import best_pack
from ..errors import InvalidArgument, StoreKeysRequired
from ..filing.counter import FilingRecord, FilingStatus, after_new_individual, filing_status
from ..filing.counter import list_records as list_filing_records
from ..images import Image, ImageSource
from ..matching import service as matching
from ..matching.service import Identification, Verification
from ..policy import gate
from ..policy.decision import Grant, Operation, Outcome
from ..policy.facts import ProcessingRequest, SubjectFacts
from ..purposes.models import Purpose
from ..purposes.repository import get_purpose, latest_notice
from ..storage.connection import Connection
from ..storage.db import (
    backup_sqlite,
    connect,
    connect_store,
    is_url,
    redact_url,
    restore_sqlite,
)
from ..subjects.models import is_minor
from ..templates import service as templates
from ..templates.store import list_templates, template_packs
from .access import ApiAccess
from .base import new_subject_id
from .books import Withdrawal
from .cameras import Cameras
from .events import Events
from .liveness import LivenessChecks
from .packs import PackBooks
from .reports import Reports
from .review import Review
from .rights import open_keys
from .staff import StaffAccess
from .upgrade import StoreUpgrade, upgrade_store

__all__ = ["CaptureAdvice", "Deployment", "PreparedEnrollment", "Withdrawal"]

#: The operations that compare faces, and so read the purpose's calibrations (R21).
_MATCHING = frozenset({Operation.VERIFY, Operation.IDENTIFY})


@dataclass(frozen=True, slots=True)
class CaptureAdvice:
    """What a quality check says about one live camera frame (capture guidance).

    Args:
        passed: the frame would pass enrollment's quality checks.
        reasons: the failed checks' stable codes (``small_face``, ``low_brightness``,
            ``extreme_pose``, ``no_face``...), most useful first.
    """

    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PreparedEnrollment:
    """The engine's part of an enrollment (:meth:`Deployment.prepare_enrollment`): whose,
    for which purpose, and the image and descriptor, in memory only."""

    subject: str
    purpose: str
    pack: str
    described: templates.EnrollmentProbe


def _key_file(path: str | Path, keys: str | Path | None,
              environ: Mapping[str, str]) -> Path | None:
    """Where the store's keys are kept: ``keys``, else ``<path>.keys`` beside an SQLite
    file; for a PostgreSQL URL ``None`` (both keys from the environment).

    Raises:
        StoreKeysRequired: a URL with no key file and the keys not in the environment.
    """
    if keys is not None:
        return Path(keys)
    if not is_url(path):
        return Path(f"{path}.keys")
    if environ.get(ENV_KEK) and environ.get(ENV_AUDIT_KEY):
        return None
    raise StoreKeysRequired(
        f"a PostgreSQL store has no file beside it for its keys: give the key file "
        f"(keys=) or set both {ENV_KEK} and {ENV_AUDIT_KEY}",
        details={"url": redact_url(str(path))})


class Deployment(PackBooks, Cameras, Review, LivenessChecks, ApiAccess, StaffAccess, Reports,
                 Events):
    """A governed face recognition deployment on one embedded SQLite store.

    Open it with :meth:`open`. Registration methods (``register_processor``,
    ``register_site``, ``register_purpose``, ``publish_notice``,
    ``sign_assessment``, ``activate_purpose``, ``register_subject``,
    ``record_consent``, ``withdraw_consent``...) come from
    :class:`~facegate.deployment.books.Books`; subject rights, retention, key
    rotation and the audit check from
    :class:`~facegate.deployment.rights.Rights`; human review of identification
    hits from :class:`~facegate.deployment.review.Review`; liveness challenges and
    checks from :class:`~facegate.deployment.liveness.LivenessChecks`; the service's
    API keys and idempotent requests from :class:`~facegate.deployment.access.ApiAccess`;
    the documents for regulators (notice, impact assessment, filing, access report,
    summary) from :class:`~facegate.deployment.reports.Reports`; cameras and their
    streams from :class:`~facegate.deployment.cameras.Cameras`.
    """

    @classmethod
    def open(cls, path: str | Path, *, engine: Engine | None = None,
             analyzer: FaceAnalyzer | None = None, clock: Clock | None = None,
             ids: Callable[[], str] | None = None, warning_share: float | None = None,
             keys: str | Path | None = None, environ: Mapping[str, str] | None = None,
             create: bool = False, inference_workers: int | None = None,
             slow_workers: int = 1, engine_threads: int | None = None) -> Deployment:
        """Open (and migrate) the deployment stored at ``path``; with ``create``, make it
        when there is none (``facegate init``).

        Every open checks the store (:func:`facegate.audit.integrity.check_open`): each
        template and consent row's tag, the tables' state under the signed checkpoint,
        and the log's head. Nothing of an older form is adopted here.

        Args:
            path: the SQLite file, or a ``postgresql://user:password@host/database``
                URL for a central store shared by several processes or machines
                (docs/storage.md, "Central mode").
            create: make the store (and its key file) when it does not exist; otherwise
                a missing store is :class:`~facegate.errors.StoreNotFound`.
            keys: the key file (key-encryption keys, audit signing key); ``<path>.keys``
                by default for an SQLite file, created with mode 0600 for a new store.
                For a URL there is no default: give it, or set both
                ``FACEGATE_KEK`` and ``FACEGATE_AUDIT_KEY``.
            environ: where ``FACEGATE_KEK`` / ``FACEGATE_AUDIT_KEY`` are read
                (``os.environ`` by default).
            engine: the face engine; by default the engine of the best-measured
                installed pack for East-Asian adults (the ArcFace pack when installed),
                loaded on first biometric use. Each purpose runs its own pack.
            analyzer: a ready analyzer (overrides ``engine``).
            clock: the time source; the system clock by default.
            ids: source of pseudonymous subject ids.
            warning_share: share of the filing threshold that raises the early
                warning (R17); the profile's default (0.9) when ``None``.
            inference_workers: how many threads may run the engine at once (the
                machine's cores when ``None``); calls beyond wait their turn.
            slow_workers: how many slow jobs (video decoding, pack evaluation) may run
                at once.
            engine_threads: ONNX Runtime's threads for one engine run (its default, the
                cores, when ``None``); a service running as many engine runs at once as
                it has cores gives each one thread (``facegate serve --engine-threads``).

        A deployment may be called from several threads at once: each thread gets its
        own connection to the store. Subjects in the erasure ledger kept beside the keys
        (docs/storage.md, "Backup and restore") are erased again here if the store still
        holds anything of them (a restored older copy).

        Raises:
            StoreNotFound: no store at ``path`` and ``create`` is false.
            StoreUpgradeRequired: an older facegate wrote the store; run
                ``facegate store upgrade`` (:meth:`upgrade`) once.
            StoreTampered: a row was altered, added, removed or left unsealed behind
                facegate's back (:class:`~facegate.errors.AuditChainBroken` for the log).
            KeyMissing: the keys of an existing store are absent.
            KeyFileInsecure: the key file is readable by group or others.
            StoreKeysRequired: ``path`` is a URL, ``keys`` is not given and the
                environment lacks ``FACEGATE_KEK`` or ``FACEGATE_AUDIT_KEY``.
            StorageError: the store cannot be opened (not a facegate store, the
                PostgreSQL server unreachable or refusing the login).
        """
        clock = clock or SystemClock()
        env = os.environ if environ is None else environ
        key_file = _key_file(path, keys, env)
        conn, created = connect_store(path, now=clock.now(), create=create)
        try:
            store = open_keys(conn, key_file, environ=env, created=created)
        except BaseException:
            conn.close()
            raise
        ready = analyzer

        def factory() -> FaceAnalyzer:
            if ready is not None:
                return ready
            if engine is None and engine_threads is not None:
                return FaceAnalyzer.for_pack(best_pack(), threads=engine_threads)
            return FaceAnalyzer(engine)

        def reconnect() -> Connection:
            return connect(path, now=clock.now(), migrate=False)

        deployment = cls(conn, keys=store, clock=clock, analyzer_factory=factory,
                         ids=ids or new_subject_id, warning_share=warning_share,
                         reconnect=reconnect, inference_workers=inference_workers,
                         slow_workers=slow_workers, engine_threads=engine_threads)
        deployment._central = is_url(path)
        deployment._location = redact_url(str(path)) if is_url(path) else str(path)
        deployment._target = str(path)
        try:
            deployment.reapplied_erasures = deployment._reapply_erasures()
        except BaseException:
            deployment.close()
            raise
        return deployment

    def backup(self, target: str | Path) -> None:
        """Copy the SQLite store to the new file ``target`` while it stays in use (SQLite's
        online backup API). The key file is not copied: keep it apart from store backups
        (docs/storage.md, "Backup and restore").

        Raises:
            InvalidArgument: a PostgreSQL store (use ``pg_dump``), or ``target`` exists.
        """
        backup_sqlite(self._conn, target)

    @classmethod
    def restore(cls, path: str | Path, *, backup: str | Path | None = None,
                old_keys: str | Path | None = None, keys: str | Path | None = None,
                environ: Mapping[str, str] | None = None,
                analyzer: FaceAnalyzer | None = None) -> Deployment:
        """Put a backup back and keep crypto-shredding true.

        1. ``backup`` (an SQLite file from :meth:`backup`) replaces the store at ``path``
           (nothing may use it meanwhile); for PostgreSQL, ``pg_restore`` first and give
           no ``backup``.
        2. ``old_keys`` (the key file kept with that backup) lends its key-encryption keys,
           so the restored data keys open.
        3. The store is opened: every subject in the erasure ledger beside the current
           keys is erased again (:attr:`reapplied_erasures`).
        4. The key-encryption key is rotated (when it lives in the key file): every data
           key is re-wrapped and the old keys, the lent ones included, are destroyed
           again, so the erased subjects' data keys in the backup open with no key the
           deployment holds.

        Returns:
            The open deployment (its caller closes it).
        """
        env = os.environ if environ is None else environ
        if backup is not None:
            restore_sqlite(backup, path)
        if old_keys is not None:
            key_file = _key_file(path, keys, env)
            store = KeyStore.open(key_file, environ=env, create=False)
            store.adopt(old_keys)
        deployment = cls.open(path, keys=keys, environ=env, analyzer=analyzer)
        try:
            if deployment._keys.rotates_itself:
                deployment.rotate_keys(operator="system:restore")
        except BaseException:
            deployment.close()
            raise
        return deployment

    @classmethod
    def upgrade(cls, path: str | Path, *, keys: str | Path | None = None,
                environ: Mapping[str, str] | None = None, clock: Clock | None = None,
                operator: str = "system") -> StoreUpgrade:
        """Upgrade a store an older facegate wrote, once, as a key holder; audited as
        ``store-upgraded``. See :func:`facegate.deployment.upgrade.upgrade_store`."""
        env = os.environ if environ is None else environ
        return upgrade_store(path, key_file=_key_file(path, keys, env), environ=env,
                             clock=clock or SystemClock(), operator=operator)

    # -- the gate -----------------------------------------------------------------

    def _request(self, conn: Connection, operation: Operation, purpose_key: str | None,
                 *, subject_id: str | None = None, declined: bool = False,
                 gallery: str | None = None, retain_image: bool = False) -> ProcessingRequest:
        profile = self._profile(conn)
        now = self._clock.now()
        purpose = get_purpose(conn, key=purpose_key) if purpose_key else None
        site = self._site(conn, purpose.site_key) if purpose else None
        notice = latest_notice(conn, purpose_key=purpose.key) if purpose else None
        facts = None
        if subject_id is not None and purpose is not None:
            person = self._subject(conn, subject_id)

            def state(scope: ConsentScope) -> Any:
                return current_state(list_consents(conn, guard=self._guard(conn),
                                                   subject_id=subject_id,
                                                   purpose_key=purpose_key, scope=scope))

            facts = SubjectFacts(
                id=subject_id, minor=is_minor(person, minor_age=profile.minor_age,
                                              today=now.date()),
                consent=state(ConsentScope.BIOMETRIC),
                transfer_consent=state(ConsentScope.TRANSFER).granted,
                retain_image_consent=state(ConsentScope.RETAIN_IMAGE).granted)
        gallery_purpose = get_purpose(conn, key=gallery) if gallery else None
        return ProcessingRequest(
            operation=operation, profile=profile, purpose_key=purpose_key, purpose=purpose,
            site=site, notice_version=notice.version if notice else None,
            assessment_current=bool(purpose and self._assessment_current(conn, purpose)),
            now=now, subject=facts, declined=declined, gallery=gallery_purpose,
            retain_image=retain_image, central_store=self._central,
            gallery_site=self._site(conn, gallery_purpose.site_key) if gallery_purpose else None,
            # Verification and identification read calibrations (the R21 gate, candidates'
            # FMR); verification also its packs' shipped ones for the purpose's population.
            calibration=(self._calibration(conn, purpose.calibration_id)
                         if purpose and operation in _MATCHING else None),
            next_calibration=(self._calibration(conn, purpose.next_calibration_id)
                              if purpose and operation in _MATCHING else None),
            shipped=({pack: self._shipped(purpose, pack) for pack in purpose.packs_in_use(now)}
                     if purpose and operation is Operation.VERIFY else {}))

    def _quality_floor(self, purpose: Purpose, pack: str,
                       req: ProcessingRequest) -> Mapping[str, float] | None:
        """What the calibration behind ``purpose``'s ``pack`` threshold measured of its
        faces: its own calibration's, else the shipped one's for its population."""
        own = req.calibration if pack == purpose.pack else req.next_calibration
        if own is not None and own.pack == pack:
            measured = own.report.get("quality")
            return measured if isinstance(measured, Mapping) else None
        if purpose.threshold_for(pack) is not None:
            return None
        shipped = req.shipped.get(pack)
        return shipped.quality if shipped is not None else None

    def _grant(self, conn: Connection, req: ProcessingRequest, operator: str) -> Grant:
        decision = gate.check(req)
        self._enforce(conn, decision, req.operation.value, operator=operator,
                      purpose_key=req.purpose_key,
                      subject_id=req.subject.id if req.subject else None)
        return gate.require(req)

    def _first_look(self, operation: Operation, purpose: str | None, *, operator: str,
                    subject_id: str | None = None, gallery: str | None = None,
                    retain_image: bool = False,
                    liveness: str | None = None) -> ProcessingRequest:
        """The gate's first look at a biometric call, on a read snapshot, before the engine
        runs: a refusal is recorded and raised here; otherwise the request, whose
        :func:`~facegate.policy.gate.require` grant covers the engine's work. The call then
        asks the gate again, under the writer lock, with the facts of that moment, before
        it stores or matches anything (a consent withdrawn meanwhile still refuses)."""
        with self._reading() as conn:
            req = self._request(conn, operation, purpose, subject_id=subject_id,
                                gallery=gallery, retain_image=retain_image)
            req = self._with_liveness(conn, req, liveness, operator, consume=False)
        decision = gate.check(req)
        if decision.outcome is Outcome.REFUSE:
            with self._unit() as conn:
                self._enforce(conn, decision, operation.value, operator=operator,
                              purpose_key=req.purpose_key,
                              subject_id=req.subject.id if req.subject else None)
        return req

    def decline(self, *, purpose: str, subject: str | None = None,
                operator: str = "system") -> AlternativeRoute:
        """The person declines face recognition: route them to the alternative (R7)."""
        with self._unit() as conn:
            req = self._request(conn, Operation.VERIFY, purpose, declined=True)
            decision = gate.check(req)
            self._enforce(conn, decision, "decline", operator=operator, purpose_key=purpose,
                          subject_id=subject)
            assert decision.outcome is Outcome.ROUTE_TO_ALTERNATIVE
            self._audit(conn, "route-to-alternative", operator=operator, purpose_key=purpose,
                        subject_id=subject, outcome=decision.outcome.value,
                        detail={"alternatives": [a.key for a in decision.alternatives]})
            return AlternativeRoute(purpose_key=purpose, alternatives=decision.alternatives)

    # -- biometric operations -------------------------------------------------------

    def prepare_enrollment(self, *, subject: str, purpose: str | None,
                           image: ImageSource | Image, retain_image: bool = False,
                           liveness: str | None = None,
                           operator: str = "system") -> PreparedEnrollment:
        """The engine's part of :meth:`enroll`, done now, outside any transaction: the
        gate's first look (a refusal is recorded and raised), then the image decoded, its
        quality checked and its descriptor computed under that look's grant. Nothing is
        stored; pass the result to :meth:`enroll` as ``prepared`` (the service does, so that
        an idempotent enrollment holds the store's writer lock only for its records).

        Raises:
            PolicyRefusal: a rule refused.
            FaceError: the image has no usable face.
        """
        req = self._first_look(Operation.ENROLL, purpose, operator=operator, subject_id=subject,
                               retain_image=retain_image, liveness=liveness)
        assert req.purpose is not None
        pack = req.purpose.enrolling_pack()
        with self._inference(pack):
            described = templates.describe_enrollment(
                gate.require(req), analyzer=self.analyzer_for(pack), image=image,
                purpose=req.purpose, subject_id=subject)
        return PreparedEnrollment(subject=subject, purpose=req.purpose.key, pack=pack,
                                  described=described)

    def enroll(self, *, subject: str, purpose: str | None, image: ImageSource | Image,
               retain_image: bool = False, liveness: str | None = None,
               operator: str = "system",
               prepared: PreparedEnrollment | None = None) -> templates.Enrollment:
        """Store the subject's sealed template for ``purpose``, through the gate.

        The template, its link to the consent it rests on and its audit entry
        commit together or not at all. With ``retain_image`` the image is kept
        too, sealed, which needs the subject's separate ``retain_image`` consent (R10).
        ``liveness`` is the receipt of a passed liveness check, consumed here when
        the purpose requires liveness (H1). ``prepared``: the engine's part, from
        :meth:`prepare_enrollment` for this subject and purpose (the gate is asked again
        here all the same).

        Raises:
            PolicyRefusal: a rule refused (R1, R2, R4, R5, R8, R10, R13, R14...).
            FaceError: the image has no usable face.
            InvalidArgument: ``prepared`` is for another subject or purpose.
        """
        if prepared is None:
            prepared = self.prepare_enrollment(subject=subject, purpose=purpose, image=image,
                                               retain_image=retain_image, liveness=liveness,
                                               operator=operator)
        elif (prepared.subject, prepared.purpose) != (subject, purpose):
            raise InvalidArgument("the prepared enrollment is for another subject or purpose")
        pack, described = prepared.pack, prepared.described
        with self._unit() as conn:
            req = self._request(conn, Operation.ENROLL, purpose, subject_id=subject,
                                retain_image=retain_image)
            req = self._with_liveness(conn, req, liveness, operator)
            grant = self._grant(conn, req, operator)
            assert req.purpose is not None
            enrolling = req.purpose.enrolling_pack()
            enrolled = templates.enroll(grant, conn=conn, keys=self._data_keys(conn),
                                        analyzer=self.analyzer_for(enrolling),
                                        image=image,
                                        purpose=req.purpose, subject_id=subject,
                                        now=self._clock.now(), retain_image=retain_image,
                                        consent_seq=self._consent_seq(conn, subject,
                                                                      req.purpose.key),
                                        described=described if enrolling == pack else None)
            detail: dict[str, Any] = {"pack": enrolled.pack, "template": enrolled.template_uid}
            if enrolled.image_uid:
                detail["image"] = enrolled.image_uid
            self._audit(conn, "enroll", operator=operator, purpose_key=purpose,
                        subject_id=subject, detail=detail)
            if enrolled.new_individual:
                for record in after_new_individual(conn, profile=req.profile,
                                                   now=self._clock.now()):
                    self._audit(conn, f"filing-{record.kind}", operator="system",
                                detail={"individuals": record.individuals,
                                        "due_on": str(record.due_on)})
        self.refresh_galleries()
        return enrolled

    def verify(self, *, subject: str, purpose: str | None, image: ImageSource | Image,
               declined: bool = False, liveness: str | None = None,
               operator: str = "system") -> Verification | AlternativeRoute:
        """Is this the subject? 1:1 against the subject's templates for ``purpose``.

        ``liveness``: a passed liveness check's receipt, for a purpose that requires it (H1).

        A person who declines gets an :class:`AlternativeRoute`, never a failure (R7).
        """
        if declined:
            return self.decline(purpose=purpose or "", subject=subject, operator=operator)
        req = self._first_look(Operation.VERIFY, purpose, operator=operator, subject_id=subject,
                               liveness=liveness)
        assert req.purpose is not None
        with self._reading() as conn:
            held = template_packs(conn, subject_id=subject, purpose_key=req.purpose.key,
                                  now=self._clock.now())
        packs = [p for p in req.purpose.packs_in_use(self._clock.now()) if p in held]
        probes = {}
        if packs:
            with self._inference(packs[-1]):
                probes = matching.embed_probe(gate.require(req), analyzers=self.analyzer_for,
                                              image=image, purpose=req.purpose,
                                              subject_id=subject, packs=packs)
        with self._unit() as conn:
            req = self._request(conn, Operation.VERIFY, purpose, subject_id=subject)
            req = self._with_liveness(conn, req, liveness, operator)
            grant = self._grant(conn, req, operator)
            assert req.purpose is not None
            purpose_row = req.purpose
            result = matching.verify(grant, conn=conn, keys=self._data_keys(conn),
                                     analyzers=self.analyzer_for, image=image,
                                     purpose=purpose_row, subject_id=subject,
                                     now=self._clock.now(),
                                     threshold=lambda pack, count: self._templates_threshold(
                                         purpose_row, pack, count,
                                         req.calibration if pack == purpose_row.pack
                                         else req.next_calibration),
                                     quality=lambda pack: self._quality_floor(
                                         purpose_row, pack, req),
                                     probes=probes)
            self._audit(conn, "verify", operator=operator, purpose_key=purpose,
                        subject_id=subject,
                        outcome=("match" if result.matched else "no_match") if result.decided
                        else "undecided",
                        detail={"pack": result.pack, "threshold": result.threshold,
                                **({"quality": list(result.quality)} if result.quality
                                   else {})})
        return result

    def identify(self, *, purpose: str | None, image: ImageSource | Image,
                 gallery: str | None = None, operator: str = "system",
                 limit: int = 5) -> Identification:
        """Who is this? 1:N within ``purpose``'s own gallery (another gallery is refused, R13).

        Every face in the probe is answered, largest first, each with up to
        ``limit`` candidates within the purpose's threshold or ``no_match``.
        The call is an identification session (R20). For a purpose configured
        for review each hit becomes a review case (``Candidate.review_case``)
        that cannot be acted on until confirmed (R19).

        Raises:
            PolicyRefusal: a rule refused (R1, R2, R13, R14...).
            NoFaceFound: the probe holds no face.
        """
        req = self._first_look(Operation.IDENTIFY, purpose, operator=operator, gallery=gallery)
        assert req.purpose is not None
        with self._inference(req.purpose.enrolling_pack()):
            picture = self.analyzer.load(image)
            described = matching.describe_probe(gate.require(req), analyzers=self.analyzer_for,
                                                image=picture, purpose=req.purpose,
                                                now=self._clock.now())
        with self._unit() as conn:
            req = self._request(conn, Operation.IDENTIFY, purpose, gallery=gallery)
            grant = self._grant(conn, req, operator)
            assert req.purpose is not None
            with self._galleries.lock:
                result = matching.identify(
                    grant, conn=conn, keys=self._data_keys(conn), analyzers=self.analyzer_for,
                    image=picture, purpose=req.purpose, now=self._clock.now(), limit=limit,
                    galleries=self._galleries, described=described,
                    calibrations={req.purpose.pack: req.calibration,
                                  **({req.purpose.next_pack: req.next_calibration}
                                     if req.purpose.next_pack else {})})
                self._report_galleries()
            result = self._only_consenting(conn, result, operator)
            result = self._session(conn, req.purpose, result, picture, operator)
            hits = sum(len(f.candidates) for f in result.faces)
            self._audit(conn, "identify", operator=operator, purpose_key=purpose,
                        outcome="no_match" if result.no_match else "candidates",
                        detail={"session": result.session_id, "faces": len(result.faces),
                                "candidates": hits, "gallery_size": result.gallery_size})
        return result

    def _consent_seq(self, conn: Connection, subject: str, purpose: str) -> int | None:
        """The ledger event a new template rests on: the latest biometric grant."""
        granted = [e.seq for e in list_consents(conn, guard=self._guard(conn),
                                                 subject_id=subject, purpose_key=purpose,
                                                 scope=ConsentScope.BIOMETRIC)
                   if e.kind is ConsentKind.GRANTED]
        return max(granted, default=None)

    def _only_consenting(self, conn: Connection, result: Identification,
                         operator: str) -> Identification:
        """Drop any candidate without live consent (R2, R4): withdrawal deletes templates, and
        this keeps a row that survived anyway (a restored backup) from ever matching."""
        profile = self._profile(conn)
        faces = []
        for face in result.faces:
            live = []
            for candidate in face.candidates:
                decision = gate.check_candidate(
                    profile, subject_id=candidate.subject_id, purpose_key=result.purpose_key,
                    consent=current_state(list_consents(conn, guard=self._guard(conn),
                                                        subject_id=candidate.subject_id,
                                                        purpose_key=result.purpose_key,
                                                        scope=ConsentScope.BIOMETRIC)))
                if decision.allowed:
                    live.append(candidate)
                    continue
                first = decision.reasons[0]
                self._audit(conn, "refusal", operator=operator, purpose_key=result.purpose_key,
                            subject_id=candidate.subject_id, outcome=first.code,
                            rule=first.rule, detail={"action": "identify-candidate"})
            faces.append(dataclasses.replace(face, candidates=tuple(live)))
        return dataclasses.replace(result, faces=tuple(faces))

    def assess_capture(self, *, subject: str, purpose: str, image: ImageSource | Image,
                       operation: str = "enroll", operator: str = "system") -> CaptureAdvice:
        """Guidance for a live camera frame of a consenting subject: the quality checks
        enrollment applies (size, brightness, pose, sharpness), nothing stored or compared.

        The enroll or verify it prepares must be allowed (purpose, assessment,
        consent; the liveness receipt is not needed yet, ``gate.check_capture``);
        a refusal is audited and raised. Each check is audited as ``capture-guidance``.

        Raises:
            PolicyRefusal: the operation it prepares is refused.
            ImageError: the frame is not an image.
        """
        op = Operation.VERIFY if operation == "verify" else Operation.ENROLL
        with self._reading() as conn:
            req = self._request(conn, op, purpose, subject_id=subject)
        decision = gate.check_capture(req)
        if decision.outcome is Outcome.REFUSE:
            with self._unit() as conn:
                self._enforce(conn, decision, "capture-guidance", operator=operator,
                              purpose_key=purpose, subject_id=subject)
        assert req.purpose is not None
        pack = req.purpose.enrolling_pack()
        with self._inference(pack):
            report = self.analyzer_for(pack).assess_single(image)
        advice = CaptureAdvice(passed=report.passed,
                               reasons=tuple(r.value for r in report.reasons))
        with self._unit() as conn:
            req = self._request(conn, op, purpose, subject_id=subject)
            self._enforce(conn, gate.check_capture(req), "capture-guidance", operator=operator,
                          purpose_key=purpose, subject_id=subject)
            self._audit(conn, "capture-guidance", operator=operator, purpose_key=purpose,
                        subject_id=subject, outcome="ok" if advice.passed else "adjust",
                        detail={"operation": op.value, "reasons": list(advice.reasons)})
        return advice

    def export_templates(self, *, subject: str, purpose: str,
                         operator: str = "system") -> list[dict[str, Any]]:
        """Move a subject's templates off the device: needs transfer consent (R8)."""
        with self._unit() as conn:
            req = self._request(conn, Operation.EXPORT, purpose, subject_id=subject)
            grant = self._grant(conn, req, operator)
            grant.ensure_covers(Operation.EXPORT, purpose_key=purpose, subject_id=subject)
            rows = list_templates(conn, keys=self._data_keys(conn), purpose_key=purpose,
                                  subject_id=subject, now=self._clock.now())
            self._audit(conn, "export", operator=operator, purpose_key=purpose,
                        subject_id=subject, detail={"templates": len(rows)})
        return [{"subject": t.subject_id, "purpose": t.purpose_key, "pack": t.descriptor.pack,
                 "pack_version": t.descriptor.pack_version,
                 "descriptor": [float(v) for v in t.descriptor.vector]} for t in rows]

    # -- reports --------------------------------------------------------------------

    def template_count(self, *, purpose: str, subject: str | None = None) -> int:
        """How many unexpired templates a purpose holds (for one subject, optionally)."""
        return len(list_templates(self._conn, keys=self._data_keys(self._conn),
                                  purpose_key=purpose, subject_id=subject,
                                  now=self._clock.now()))

    def filing_status(self) -> FilingStatus:
        """Stored individuals against the filing threshold, with every record (R17, R18)."""
        return filing_status(self._conn, profile=self._profile(self._conn))

    def filing_records(self) -> list[FilingRecord]:
        return list_filing_records(self._conn)

    def audit_events(self, name: str | None = None, *, after: int | None = None,
                     before: int | None = None, limit: int | None = None,
                     newest_first: bool = False,
                     purposes: Collection[str] | None = None,
                     since: datetime | None = None) -> list[AuditEvent]:
        """The trail, oldest first (or newest first); optionally one event name, only the
        entries of ``purposes``, entries at or after ``since``, and a page (``seq`` above
        ``after``, below ``before``, at most ``limit`` entries)."""
        return list_events(self._conn, name=name, after=after, before=before, limit=limit,
                           newest_first=newest_first, purposes=purposes, since=since)

    def audit_event_names(self) -> list[str]:
        """The distinct event names in the trail, sorted."""
        return event_names(self._conn)

    @property
    def connection(self) -> Connection:
        """The store's connection, for bulk loading and inspection by tools and tests."""
        return self._conn

    @property
    def key_ring(self) -> KeyRing:
        """The key-encryption keys, for bulk loading and inspection by tools and tests."""
        return self._keys.ring

    @property
    def row_mac(self) -> RowMac:
        """The row tags' key, for bulk loading and inspection by tools and tests."""
        return self._keys.rows
