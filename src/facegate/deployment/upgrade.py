"""``facegate store upgrade``: the one path by which rows of an older form are adopted.

An ordinary open never seals, chains or tags anything it finds (R15, R16): a
store an older facegate wrote is refused with
:class:`~facegate.errors.StoreUpgradeRequired` until a key holder runs this,
once, and the upgrade is itself an audit entry (``store-upgraded``). Two older
forms exist:

* **before protected storage**: plain descriptors (no ``uid``), an unchained log,
  no checkpoint and no keys. The upgrade makes the store's first keys (it refuses
  when keys already exist: a store with keys never held plain rows, so such rows
  are tampering), seals the templates and chains the log;
* **before row tags**: sealed templates and a chained log signed by a v1
  checkpoint, no tags. The upgrade first verifies the whole chain against the
  v1 signature and opens every template with its seal.

In both cases, before anything is adopted, the consent ledger must agree with
the log (each subject's grants and withdrawals per purpose and scope, in order,
as the ``consent-granted`` / ``consent-withdrawn`` entries record them) and
every template must rest on a live biometric consent of its subject for its
purpose. A row that fails is refused and reported (the first one named, nothing
changed); then every template, consent event and audit entry is tagged and the
checkpoint signed over the tables' state.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..audit.integrity import (
    RowGuard,
    check_open,
    inspect_store,
    tag_all,
    verify_old_log,
)
from ..audit.trail import AuditEvent, chain_legacy_events, record_event, sign_checkpoint
from ..clock import Clock
from ..crypto.keyfile import KeyStore
from ..errors import CryptoError, StoreTampered
from ..storage.connection import Connection
from ..storage.db import checkpoint_wal, connect_store, transaction
from ..templates.keys import DataKeys
from ..templates.store import open_descriptor, seal_legacy_templates
from .rights import keys_exist

__all__ = ["StoreUpgrade", "upgrade_store"]

_CONSENT_ENTRIES = {"consent-granted": "granted", "consent-withdrawn": "withdrawn"}


@dataclass(frozen=True, slots=True)
class StoreUpgrade:
    """What an upgrade did: the older form found (``plain``, ``v1``, or ``current`` when
    there was nothing to do), and how many rows it sealed, chained and tagged."""

    form: str
    sealed: int = 0
    chained: int = 0
    tagged: Mapping[str, int] | None = None
    seq: int | None = None


def upgrade_store(path: str | Path, *, key_file: Path | None, environ: Mapping[str, str],
                  clock: Clock, operator: str = "system") -> StoreUpgrade:
    """Upgrade the store at ``path`` once (see the module's docstring).

    Raises:
        StoreNotFound: no store at ``path``.
        KeyMissing: a v1 store's keys are absent.
        AuditChainBroken, StoreTampered: a row that is not adopted (the first named);
            the store is left as it was.
    """
    conn, _ = connect_store(path, now=clock.now())
    try:
        form = inspect_store(conn)
        if form.legacy_only:
            return _upgrade_plain(conn, key_file, environ, clock, operator)
        store = KeyStore.open(key_file, environ=environ, create=False)
        if form.v1_checkpoint and not form.tagged:
            return _upgrade_v1(conn, store, clock, operator)
        check_open(conn, signer=store.signer, mac=store.rows)
        return StoreUpgrade(form="current")
    finally:
        conn.close()


def _upgrade_plain(conn: Connection, key_file: Path | None, environ: Mapping[str, str],
                   clock: Clock, operator: str) -> StoreUpgrade:
    if keys_exist(key_file, environ):
        raise StoreTampered(
            "the store holds plain templates or an unchained log, but keys exist for it: "
            "a store with keys never held plain rows, so they are not adopted",
            details={"rule": "R16"})
    store = KeyStore.open(key_file, environ=environ, create=True)
    now = clock.now()
    with transaction(conn):
        keys = DataKeys(conn, ring=store.ring, now=now, guard=RowGuard(conn, store.rows))
        sealed = seal_legacy_templates(conn, keys=keys)
        chained, head = chain_legacy_events(conn)
        _check_adoptable(conn)
        tagged = tag_all(conn, store.rows)
        if chained:
            sign_checkpoint(conn, store.signer, chained, head, now)
        seq = record_event(conn, signer=store.signer, mac=store.rows, event=AuditEvent(
            name="store-upgraded", at=now, operator=operator, outcome="ok",
            detail={"form": "plain", "templates_sealed": sealed, "entries_chained": chained,
                    "tagged": dict(tagged)}))
    checkpoint_wal(conn)  # the plain pages leave the WAL
    return StoreUpgrade(form="plain", sealed=sealed, chained=chained, tagged=tagged, seq=seq)


def _upgrade_v1(conn: Connection, store: KeyStore, clock: Clock,
                operator: str) -> StoreUpgrade:
    verify_old_log(conn, signer=store.signer)
    now = clock.now()
    with transaction(conn):
        _check_sealed(conn, DataKeys(conn, ring=store.ring, now=now,
                                     guard=RowGuard(conn, store.rows)))
        _check_adoptable(conn)
        tagged = tag_all(conn, store.rows)
        seq = record_event(conn, signer=store.signer, mac=store.rows, event=AuditEvent(
            name="store-upgraded", at=now, operator=operator, outcome="ok",
            detail={"form": "v1", "tagged": dict(tagged)}))
    return StoreUpgrade(form="v1", tagged=tagged, seq=seq)


def _refused(table: str, row: object, message: str) -> StoreTampered:
    return StoreTampered(message + "; nothing was upgraded",
                         details={"table": table, "row": row, "rule": "R16"})


def _check_sealed(conn: Connection, keys: DataKeys) -> None:
    """Every template of a v1 store opens with its seal and its subject's data key."""
    for row_id, uid, subject, purpose, pack, version, blob in conn.execute(
            "SELECT id, uid, subject_id, purpose_key, pack, pack_version, descriptor "
            "FROM templates ORDER BY id").fetchall():
        key = keys.find(str(subject)) if uid is not None else None
        try:
            if key is None:
                raise CryptoError("no seal or no data key")
            open_descriptor(key, bytes(blob), uid=str(uid), subject_id=str(subject),
                            purpose_key=str(purpose), pack=str(pack), pack_version=str(version))
        except CryptoError:
            raise _refused("templates", row_id, f"template row {row_id} does not open with "
                                                "its seal and its subject's data key") from None


def _check_adoptable(conn: Connection) -> None:
    """The consent ledger agrees with the log, and every template rests on live consent."""
    erased = {str(r[0]) for r in conn.execute(
        "SELECT subject_id FROM audit_events WHERE name = 'subject-erased'")}
    logged: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for seq, name, subject, purpose, detail in conn.execute(
            "SELECT seq, name, subject_id, purpose_key, detail FROM audit_events "
            "WHERE name IN ('consent-granted', 'consent-withdrawn') ORDER BY seq"):
        try:
            scope = str(json.loads(detail).get("scope", "biometric"))
        except (ValueError, AttributeError):
            scope = "biometric"
        if str(subject) not in erased:
            logged[(str(subject), str(purpose), scope)].append((int(seq), _CONSENT_ENTRIES[name]))
    ledger: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for seq, subject, purpose, scope, kind in conn.execute(
            "SELECT seq, subject_id, purpose_key, scope, kind FROM consent_events ORDER BY seq"):
        ledger[(str(subject), str(purpose), str(scope))].append((int(seq), str(kind)))
    for key in sorted(set(logged) | set(ledger)):
        rows, entries = ledger.get(key, []), logged.get(key, [])
        for i in range(max(len(rows), len(entries))):
            row = rows[i] if i < len(rows) else None
            entry = entries[i] if i < len(entries) else None
            if row is not None and (entry is None or entry[1] != row[1]):
                raise _refused("consent_events", row[0], f"consent event {row[0]} ({row[1]}) "
                               "has no matching consent entry in the log")
            if row is None and entry is not None:
                raise _refused("consent_events", None, f"the consent recorded by audit entry "
                               f"{entry[0]} is missing from the consent ledger")
    current = {key: rows[-1] for key, rows in ledger.items()}
    for row_id, subject, purpose, consent_seq in conn.execute(
            "SELECT id, subject_id, purpose_key, consent_seq FROM templates ORDER BY id"):
        latest = current.get((str(subject), str(purpose), "biometric"))
        grants = {seq for seq, kind in ledger.get((str(subject), str(purpose), "biometric"), [])
                  if kind == "granted"}
        if latest is None or latest[1] != "granted" or (
                consent_seq is not None and consent_seq not in grants):
            raise _refused("templates", row_id, f"template row {row_id} rests on no live "
                                                "biometric consent of its subject")
