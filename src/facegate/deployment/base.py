"""What every part of :class:`~facegate.deployment.Deployment` shares.

The connection, the key store, the injected clock and id source, the
jurisdiction profile, one-transaction-per-call, and the audit of refusals.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

from ..analysis import FaceAnalyzer
from ..audit.integrity import RowGuard, check_open
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
from ..jurisdictions import JurisdictionProfile, get_profile
from ..matching.gallery import Galleries
from ..organisation.models import Site
from ..organisation.repository import get_processor, get_site
from ..policy.decision import Decision, Outcome
from ..purposes.models import Purpose
from ..purposes.repository import get_purpose, list_assessments
from ..storage.connection import Connection
from ..storage.db import data_version, transaction
from ..subjects.models import Subject
from ..subjects.repository import get_subject
from ..templates.keys import DataKeys

__all__ = ["DeploymentBase", "new_subject_id"]


def new_subject_id() -> str:
    """A fresh pseudonymous subject id: ``s_`` and 16 random hex digits."""
    return "s_" + secrets.token_hex(8)


class DeploymentBase:
    """State and helpers; see :class:`~facegate.deployment.Deployment` for the API."""

    def __init__(self, conn: Connection, *, keys: KeyStore, clock: Clock,
                 analyzer_factory: Callable[[], FaceAnalyzer],
                 ids: Callable[[], str], warning_share: float | None = None) -> None:
        if warning_share is not None and not 0.0 < warning_share <= 1.0:
            raise InvalidArgument("warning_share must lie in (0, 1]",
                                  details={"warning_share": warning_share})
        self._warning_share = warning_share
        self._conn = conn
        self._keys = keys
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
        #: SQLite's data_version when the store was last checked (another process's
        #: commit changes it; see :meth:`_unit`)
        self._checked_version = data_version(conn)

    @property
    def central_store(self) -> bool:
        """The store is central (PostgreSQL), not on the device: enrollment there is for
        central purposes and subjects who gave transfer consent only (R8)."""
        return self._central

    @property
    def location(self) -> str:
        """Where the store is: the SQLite path, or the PostgreSQL URL without its password."""
        return self._location

    @property
    def analyzer(self) -> FaceAnalyzer:
        """The face analyzer given at open (or the default pack's); built on first use."""
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
        if pack not in self._pack_analyzers:
            self._pack_analyzers[pack] = FaceAnalyzer.for_pack(
                pack, settings=self.analyzer.settings)
        return self._pack_analyzers[pack]

    def close(self) -> None:
        """Close the store."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _unit(self) -> Iterator[Connection]:
        """The one transaction of a service call; a policy refusal still commits its record.

        Sealed data that does not open (a moved or altered row, a missing key) or a
        row whose tag does not verify rolls the call back and is then recorded as an
        ``integrity-failure`` entry of its own (R16: failed access is audited).

        On SQLite, when another connection has committed since the store was last
        checked, the checks of an open run again first, so a row deleted or restored
        behind this process's back is found before the call trusts the store.
        """
        version = data_version(self._conn)
        if version != self._checked_version:
            check_open(self._conn, signer=self._keys.signer, mac=self._keys.rows)
            self._checked_version = version
        try:
            with transaction(self._conn, commit_on=(PolicyRefusal,)) as conn:
                yield conn
        except (CryptoError, StoreTampered) as exc:
            if not self._conn.in_transaction and not isinstance(exc, AuditChainBroken):
                with transaction(self._conn) as conn:
                    self._audit(conn, "integrity-failure", operator="system",
                                outcome=exc.code, detail={"message": exc.message})
            raise

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
        return record_event(conn, signer=self._keys.signer, mac=self._keys.rows,
                            event=AuditEvent(
            name=name, at=self._clock.now(), operator=operator, outcome=outcome,
            purpose_key=purpose_key, subject_id=subject_id, rule=rule, detail=detail or {}))

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
        return any(a.is_current_for(purpose)
                   for a in list_assessments(conn, purpose_key=purpose.key))
