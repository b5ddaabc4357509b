"""Subject rights, retention, key rotation and the audit check (R9, R15, R16, R23).

Erasure is crypto-shredding: the subject's templates, retained images,
consent ledger and wrapped data key are deleted in one transaction (with
``secure_delete`` the bytes are overwritten), and the key-encryption key is
rotated so the old wrapped data key in any backup opens with no key this
deployment still holds. The audit log keeps its entries (they hold no
biometric data) and gains the erasure receipt; after erasure the access
report shows only that receipt.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..access.accounts import account_kek_ids, rewrap_totp_secrets
from ..access.sessions import purge_rate_buckets, purge_sessions
from ..audit.chain import ChainReport
from ..audit.integrity import check_open, inspect_store, verify_store
from ..audit.trail import AuditEvent, list_events
from ..consent.alternatives import forget_subject
from ..consent.ledger import erase_events
from ..consent.ledger import list_events as list_consents
from ..crypto.keyfile import ENV_AUDIT_KEY, KeyStore
from ..crypto.keyring import KeyRing
from ..errors import StoreUpgradeRequired
from ..events.store import endpoint_kek_ids, purge_outbox, rewrap_endpoint_secrets
from ..review.store import list_subject_cases, probe_kek_ids, rewrap_probe_keys
from ..storage.connection import Connection
from ..storage.db import checkpoint_wal
from ..storage.leases import take_lease
from ..subjects.models import Subject
from ..subjects.repository import delete_subject, get_subject, list_subjects, page_subjects
from ..templates.images import delete_expired_images, delete_images, image_metadata
from ..templates.keys import delete_data_key, kek_ids_in_use, rewrap_data_keys
from ..templates.store import delete_expired, delete_templates, template_metadata
from .books import Books

__all__ = ["AccessReport", "ErasureReceipt", "KeyRotation", "RetentionSweep", "Rights",
           "keks_in_use", "open_keys", "rewrap_all"]

ERASED = "subject-erased"


def keys_exist(path: Path | None, environ: Mapping[str, str]) -> bool:
    """Whether a store at hand has keys somewhere: its key file, or the environment's."""
    return bool(path is not None and path.exists()) or bool(environ.get(ENV_AUDIT_KEY))


def open_keys(conn: Connection, path: Path | None, *, environ: Mapping[str, str],
              created: bool) -> KeyStore:
    """The store's keys: made for a store created now, read otherwise; then every check
    an open makes (:func:`facegate.audit.integrity.check_open`), and KEKs no data key
    uses any more destroyed. Nothing is sealed, chained or adopted here: a store an
    older facegate wrote is refused until ``facegate store upgrade``.

    Raises:
        StoreUpgradeRequired: the store was written by an older facegate.
        KeyMissing: the keys of an existing store are absent.
        KeyFileInsecure: the key file is readable by group or others.
        StoreTampered: a row was altered, added, removed or left unsealed (the first named).
    """
    if not created and inspect_store(conn).legacy_only and not keys_exist(path, environ):
        raise StoreUpgradeRequired(
            "the store was written before protected storage (plain templates, an unchained "
            "log); a key holder upgrades it once with: facegate store upgrade",
            details={"form": "plain"})
    store = KeyStore.open(path, environ=environ, create=created)
    check_open(conn, signer=store.signer, mac=store.rows)
    store.retire(keep=lambda: keks_in_use(conn))
    return store


def _holds(conn: Connection, subjects: list[str]) -> set[str]:
    """Which of ``subjects`` the store still holds anything of (record, data key, templates,
    consent events)."""
    found: set[str] = set()
    for start in range(0, len(subjects), 500):
        chunk = subjects[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for table, column in (("subjects", "id"), ("subject_keys", "subject_id"),
                              ("templates", "subject_id"), ("consent_events", "subject_id")):
            found |= {str(r[0]) for r in conn.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN ({marks})", chunk)}
    return found


def keks_in_use(conn: Connection) -> set[str]:
    """KEKs still wrapping a subject's data key, a held review probe's key, a webhook
    endpoint's secret or a staff account's TOTP secret."""
    return (kek_ids_in_use(conn) | probe_kek_ids(conn) | endpoint_kek_ids(conn)
            | account_kek_ids(conn))


def rewrap_all(conn: Connection, *, ring: KeyRing) -> int:
    """Re-wrap every data key, review probe key, webhook secret and TOTP secret under
    ``ring.active``; returns how many."""
    return (rewrap_data_keys(conn, ring=ring) + rewrap_probe_keys(conn, ring=ring)
            + rewrap_endpoint_secrets(conn, ring=ring) + rewrap_totp_secrets(conn, ring=ring))


def _event(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(), "name": e.name, "operator": e.operator,
            "purpose": e.purpose_key, "outcome": e.outcome, "rule": e.rule,
            "detail": dict(e.detail)}


@dataclass(frozen=True, slots=True)
class AccessReport:
    """Everything held about a subject (R23): templates as metadata, never vectors."""

    subject_id: str
    erased: bool
    subject: dict[str, Any] | None = None
    consents: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    review_cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """What an erasure removed; the same facts are the audit entry ``seq``."""

    subject_id: str
    seq: int
    at: datetime
    templates: int
    images: int
    consents: int
    data_key_destroyed: bool
    kek_rotated: bool


@dataclass(frozen=True, slots=True)
class RetentionSweep:
    """What a retention sweep erased (R9)."""

    templates: int
    images: int
    data_keys_destroyed: int
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeyRotation:
    """A rotation: the new key-encryption key and how many data keys were re-wrapped."""

    kek: str
    data_keys: int
    retired: tuple[str, ...]


class Rights(Books):
    """Subject rights and the protected store; see :class:`~facegate.deployment.Deployment`."""

    # -- R23 ----------------------------------------------------------------------

    def subjects(self, *, limit: int = 200) -> list[Subject]:
        """The most recently registered subjects (pseudonymous ids), newest first."""
        return list_subjects(self._conn, limit=limit)

    def find_subjects(self, *, after: tuple[str, str] | None = None,
                      since: datetime | None = None, external_ref: str | None = None,
                      limit: int = 100, operator: str | None = None) -> list[Subject]:
        """Subjects oldest first, for paging: after the (registered time, id) ``after``,
        registered at or after ``since``, with the deployer's ``external_ref``. With an
        ``operator`` the reading is audited (``subjects-listed``: how many, and whether
        looked up by reference; never the reference itself)."""
        if operator is None:
            return page_subjects(self._conn, after=after, since=since,
                                 external_ref=external_ref, limit=limit)
        with self._unit() as conn:
            found = page_subjects(conn, after=after, since=since, external_ref=external_ref,
                                  limit=limit)
            self._audit(conn, "subjects-listed", operator=operator,
                        detail={"count": len(found),
                                "by_external_ref": external_ref is not None})
        return found

    def access_report(self, subject: str, *, operator: str = "system") -> AccessReport:
        """Everything held about ``subject``; after erasure, only the erasure receipt.

        Raises:
            SubjectNotFound: never registered.
        """
        with self._unit() as conn:
            receipts = list_events(conn, name=ERASED, subject_id=subject)
            person = get_subject(conn, id=subject)
            if person is None and not receipts:
                self._subject(conn, subject)
            if person is None:
                report = AccessReport(subject_id=subject, erased=True,
                                      erasures=[_event(e) for e in receipts])
            else:
                report = AccessReport(
                    subject_id=subject, erased=False,
                    subject={"id": person.id, "external_ref": person.external_ref,
                             "birth_date": person.birth_date, "age_band": person.age_band,
                             "registered_at": person.registered_at.isoformat()},
                    consents=[{"seq": c.seq, "purpose": c.purpose_key, "scope": str(c.scope),
                               "kind": str(c.kind), "notice_version": c.notice_version,
                               "method": str(c.method), "given_by": str(c.given_by),
                               "recorded_at": c.recorded_at.isoformat()}
                              for c in list_consents(conn, guard=self._guard(conn),
                                                     subject_id=subject)],
                    templates=template_metadata(conn, subject_id=subject),
                    images=image_metadata(conn, subject_id=subject),
                    review_cases=list_subject_cases(conn, subject_id=subject),
                    events=[_event(e) for e in list_events(conn, subject_id=subject)])
            self._audit(conn, "subject-access", operator=operator, subject_id=subject)
        return report

    def erase_subject(self, subject: str, *, operator: str = "system") -> ErasureReceipt:
        """Erase everything held about ``subject`` and shred its data key (R23).

        Cascades to templates, retained images, the consent ledger and the
        subject record; rotates the key-encryption key (when it lives in the
        key file) so backups taken before cannot be opened; leaves a receipt in
        the audit log.

        Raises:
            SubjectNotFound: not registered (or already erased).
        """
        self._subject(self._conn, subject)
        receipt = self._erase(subject, operator=operator)
        assert receipt is not None
        return receipt

    def _erase(self, subject: str, *, operator: str,
               reapplied: bool = False) -> ErasureReceipt | None:
        """Erasure itself: the deletions, the key rotation, the ledger entry and the receipt,
        in one transaction (the new KEK is staged inside it, under the writer lock, so
        erasures in several processes never rotate past each other). An erasure applied
        again from the ledger does not rotate (the restore does, once) and returns
        ``None`` when nothing of the subject is left (another process was first)."""
        rotate = self._keys.rotates_itself and not reapplied
        with self._rotation:
            try:
                with self._unit() as conn:
                    if not reapplied:
                        self._subject(conn, subject)
                    elif not _holds(conn, [subject]):
                        return None
                    purposes = sorted(
                        {str(r[0]) for r in conn.execute(
                            "SELECT purpose_key FROM templates WHERE subject_id = ? UNION "
                            "SELECT purpose_key FROM consent_events WHERE subject_id = ?",
                            (subject, subject))})
                    templates = delete_templates(conn, guard=self._guard(conn),
                                                 subject_id=subject)
                    images = delete_images(conn, subject_id=subject)
                    shredded = delete_data_key(conn, subject_id=subject) > 0
                    consents = erase_events(conn, guard=self._guard(conn), subject_id=subject)
                    forget_subject(conn, subject_id=subject)
                    delete_subject(conn, id=subject)
                    cases = self._cascade_erasure(conn, subject, operator=operator)
                    if rotate:
                        rewrap_all(conn, ring=self._keys.stage_rotation())
                    now = self._clock.now()
                    detail: dict[str, Any] = {
                        "templates": templates, "images": images, "consents": consents,
                        "data_key_destroyed": shredded, "kek_rotated": rotate,
                        "review_sessions": cases, "purposes": purposes}
                    if reapplied:
                        detail["reapplied"] = True
                    seq = self._audit(conn, ERASED, operator=operator, subject_id=subject,
                                      outcome="erased", detail=detail)
                    if not reapplied:
                        self._keys.record_erasure(subject, now.isoformat())
            finally:
                if rotate:
                    self._finish_rotation()
        self.refresh_galleries()
        return ErasureReceipt(subject_id=subject, seq=seq, at=now, templates=templates,
                              images=images, consents=consents, data_key_destroyed=shredded,
                              kek_rotated=rotate)

    def _reapply_erasures(self) -> list[str]:
        """Erase again every subject of the erasure ledger (kept beside the keys) that the
        store still holds anything of: what a restored older copy of the store brought
        back. Each is audited as ``subject-erased`` with ``reapplied``; returns them."""
        ledger = list(dict.fromkeys(self._keys.erased_subjects()))
        if not ledger:
            return []
        with self._reading() as conn:
            found = _holds(conn, ledger)
        again = []
        for subject in ledger:
            if subject in found and self._erase(subject, operator="system:erasure-ledger",
                                                reapplied=True) is not None:
                again.append(subject)
        return again

    # -- R16 ----------------------------------------------------------------------

    def rotate_keys(self, *, operator: str = "system") -> KeyRotation:
        """Re-wrap every data key under a new key-encryption key; the old one is destroyed.

        Nobody is re-enrolled. With ``FACEGATE_KEK`` set, the new key comes from
        ``FACEGATE_NEW_KEK`` and the caller then sets ``FACEGATE_KEK`` to it.
        """
        with self._rotation:
            with self._unit() as conn:
                ring = self._keys.stage_rotation()
                count = rewrap_all(conn, ring=ring)
                self._audit(conn, "key-rotated", operator=operator,
                            detail={"kek": ring.active, "data_keys": count})
            retired = self._finish_rotation()
        return KeyRotation(kek=ring.active, data_keys=count, retired=tuple(retired))

    def _finish_rotation(self) -> list[str]:
        def in_use() -> set[str]:
            with self._reading() as conn:
                return keks_in_use(conn)

        retired = self._keys.retire(keep=in_use)
        checkpoint_wal(self._conn)
        return retired

    # -- R9 -----------------------------------------------------------------------

    def sweep_if_due(self, *, holder: str, interval: float,
                     operator: str = "system:schedule") -> RetentionSweep | None:
        """The service's scheduled sweep: it runs only where the store's
        ``retention-sweep`` lease is taken (for ``interval`` seconds), so however many
        processes serve the deployment, one sweeps per interval. Then the service's
        own leftovers are tidied (:meth:`housekeep`). ``None`` when another process
        holds the lease."""
        with self._unit(serialise=False) as conn:
            granted = take_lease(conn, name="retention-sweep", holder=holder,
                                 seconds=interval, now=time.time())
        if not granted:
            return None
        swept = self.sweep_retention(operator=operator)
        self.housekeep()
        return swept

    def housekeep(self, *, keep_changes: timedelta = timedelta(days=1),
                  keep_deliveries: timedelta = timedelta(days=7)) -> int:
        """Delete what the service no longer needs: gallery changes older than
        ``keep_changes`` (the newest is kept), webhook deliveries finished longer than
        ``keep_deliveries`` ago, idle sessions and full rate buckets; returns how many rows."""
        now = self._clock.now()
        with self._unit(serialise=False) as conn:
            gone = conn.execute(
                "DELETE FROM gallery_changes WHERE changed_at < ? AND seq < "
                "(SELECT max(seq) FROM gallery_changes)",
                ((now - keep_changes).isoformat(),)).rowcount
            gone += purge_outbox(conn, before=now - keep_deliveries)
            wall = time.time()
            gone += purge_sessions(conn, idle_before=wall - 12 * 3600.0,
                                   anonymous_before=wall - 3600.0)
            gone += purge_rate_buckets(conn, before=wall - 120.0)
        return gone

    def sweep_retention(self, *, operator: str = "system") -> RetentionSweep:
        """Erase every template and retained image past its retention (R9).

        A subject left with nothing stored loses its data key too. Audited as
        one ``retention-sweep`` entry.
        """
        now = self._clock.now()
        with self._unit() as conn:
            gone = delete_expired(conn, guard=self._guard(conn), now=now)
            images = delete_expired_images(conn, now=now)
            self._cascade_expiry(conn, operator=operator)
            subjects = tuple(sorted({s for _, s, _ in gone}))
            destroyed = sum(delete_data_key(conn, subject_id=s) for s in subjects
                            if not self._holds_anything(conn, s))
            self._audit(conn, "retention-sweep", operator=operator, detail={
                "templates": len(gone), "images": images, "data_keys_destroyed": destroyed,
                "subjects": list(subjects)})
        self._galleries.expired(now)
        self.refresh_galleries()
        checkpoint_wal(self._conn)
        return RetentionSweep(templates=len(gone), images=images,
                              data_keys_destroyed=destroyed, subjects=subjects)

    def _cascade_erasure(self, conn: Connection, subject: str, *, operator: str) -> int:
        """Erasure of what later layers hold about ``subject`` (review cases); returns a count."""
        return 0

    def _cascade_expiry(self, conn: Connection, *, operator: str) -> int:
        """Expiry of what later layers hold (review cases and probe images)."""
        return 0

    @staticmethod
    def _holds_anything(conn: Connection, subject: str) -> bool:
        return bool(template_metadata(conn, subject_id=subject) or
                    image_metadata(conn, subject_id=subject))

    # -- R15 ----------------------------------------------------------------------

    def verify_audit(self) -> ChainReport:
        """Check the whole audit log against its signed checkpoint, every entry's tag, and
        every template and consent row with the tables' signed state.

        Raises:
            AuditChainBroken: ``details.seq`` names the first broken entry.
            StoreTampered: ``details.table`` and ``details.row`` name the first bad row.
        """
        return verify_store(self._conn, signer=self._keys.signer, mac=self._keys.rows)
