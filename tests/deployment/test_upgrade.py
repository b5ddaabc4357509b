"""A store, once past its migrations, never runs an upgrade path again (R15, R16).

An older store is refused on open until a key holder runs ``facegate store upgrade``,
once; the upgrade is audited, verifies what it adopts, and refuses (naming the first)
any row without a valid seal or chain, or that the log does not vouch for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.audit.integrity import RowGuard
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import (
    AuditChainBroken,
    PolicyRefusal,
    StoreTampered,
    StoreUpgradeRequired,
)
from facegate.templates.keys import DataKeys
from facegate.templates.store import list_templates

from ..support.governed import add_purpose, consent
from ..support.older_stores import to_plain_form, to_v1_form
from ..support.storage import files_on_disk
from ..support.words import both

DOOR = "door.entry"


def _store(open_deployment: Callable[..., Deployment], faces: dict[str, Path],
           clock: FixedClock) -> tuple[dict[str, str], dict[str, bytes], tuple[object, ...]]:
    """A store with an enrolled subject, one who withdrew, and a refusal: the subjects,
    the plain descriptors by template uid, and the withdrawn subject's old template row."""
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X")
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, DOOR, modes=("verify",))
    alice = d.register_subject(age_band="adult").id
    walt = d.register_subject(age_band="adult").id
    for s in (alice, walt):
        consent(d, s, DOOR)
    d.enroll(subject=alice, purpose=DOOR, image=faces["obama"])
    d.enroll(subject=walt, purpose=DOOR, image=faces["biden"])
    keys = DataKeys(d.connection, ring=d.key_ring, now=clock.now(),
                    guard=RowGuard(d.connection, d.row_mac))
    plain = {t.uid: t.descriptor.to_bytes()
             for t in list_templates(d.connection, keys=keys, purpose_key=DOOR,
                                     now=clock.now())}
    old_row = tuple(d.connection.execute("SELECT * FROM templates WHERE subject_id = ?",
                                         (walt,)).fetchone())
    d.withdraw_consent(subject=walt, purpose=DOOR)
    with pytest.raises(PolicyRefusal):  # a refusal on the log: no such purpose
        d.verify(subject=alice, purpose="hr.attendance", image=faces["obama"])
    d.close()
    return {"alice": alice, "walt": walt}, plain, old_row


def _upgrade(db: Path) -> object:
    return CliRunner().invoke(cli, ["store", "upgrade", "--db", str(db)])


def test_r16_a_store_from_before_protected_storage_opens_only_after_one_upgrade(
        open_deployment: Callable[..., Deployment], faces: dict[str, Path],
        clock: FixedClock, tmp_path: Path) -> None:
    who, plain, _ = _store(open_deployment, faces, clock)
    db = tmp_path / "facegate.db"
    to_plain_form(db, plain)
    with pytest.raises(StoreUpgradeRequired):
        open_deployment()
    refused = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
    assert refused.exit_code == 1 and refused.stderr.startswith(
        "facegate: storage.upgrade_required: ")
    done = _upgrade(db)
    assert done.exit_code == 0, done.output
    assert "upgraded from the plain form: 1 template(s) sealed" in done.stdout
    d = open_deployment()
    last = d.audit_events()[-1]
    assert (last.name, last.detail["form"], last.operator.startswith("cli:")) == (
        "store-upgraded", "plain", True)
    assert d.verify_audit().entries == last.seq
    result = d.verify(subject=who["alice"], purpose=DOOR, image=faces["obama2"])
    assert getattr(result, "matched", False)
    d.close()
    for name, data in files_on_disk(tmp_path).items():  # sealed; the plain pages are gone
        for descriptor in plain.values():
            assert descriptor[:16] not in data and descriptor[200:216] not in data, name
    again = _upgrade(db)
    assert again.exit_code == 0 and "is current; nothing to upgrade" in again.stdout
    # Past its upgrade, a plain row is tampering: never sealed again, on open or upgrade.
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE templates SET uid = NULL")
    raw.close()
    with pytest.raises(StoreTampered):
        open_deployment()
    refused = _upgrade(db)
    assert refused.exit_code == 1 and "storage.tampered" in refused.stderr


def test_r16_a_plain_store_whose_keys_exist_is_tampering_not_an_older_store(
        open_deployment: Callable[..., Deployment], faces: dict[str, Path],
        clock: FixedClock, tmp_path: Path) -> None:
    _, plain, _ = _store(open_deployment, faces, clock)
    db = tmp_path / "facegate.db"
    keys = Path(f"{db}.keys").read_bytes()
    to_plain_form(db, plain)
    Path(f"{db}.keys").write_bytes(keys)
    Path(f"{db}.keys").chmod(0o600)
    with pytest.raises(AuditChainBroken):
        open_deployment()
    refused = _upgrade(db)
    assert refused.exit_code == 1
    assert "keys exist for it" in refused.stderr and "Traceback" not in refused.output


def test_r15_a_store_from_before_row_tags_is_verified_then_tagged_once(
        open_deployment: Callable[..., Deployment], faces: dict[str, Path],
        clock: FixedClock, tmp_path: Path) -> None:
    who, _, _ = _store(open_deployment, faces, clock)
    db = tmp_path / "facegate.db"
    to_v1_form(db)
    with pytest.raises(StoreUpgradeRequired):
        open_deployment()
    done = _upgrade(db)
    assert done.exit_code == 0 and "from the v1 form" in done.stdout, done.output
    d = open_deployment()
    assert d.audit_events()[-1].name == "store-upgraded"
    d.verify_audit()
    result = d.verify(subject=who["alice"], purpose=DOOR, image=faces["obama2"])
    assert getattr(result, "matched", False)
    d.close()
    assert "nothing to upgrade" in _upgrade(db).stdout


@pytest.mark.parametrize("tamper", ["withdrawal rewritten", "entry edited", "template restored",
                                    "consent inserted"])
def test_r15_r16_an_older_store_tampered_before_its_upgrade_is_refused_and_named(
        tamper: str, open_deployment: Callable[..., Deployment], faces: dict[str, Path],
        clock: FixedClock, tmp_path: Path) -> None:
    who, _, old_row = _store(open_deployment, faces, clock)
    db = tmp_path / "facegate.db"
    to_v1_form(db)
    with sqlite3.connect(db) as raw:
        if tamper == "withdrawal rewritten":
            raw.execute("UPDATE consent_events SET kind = 'granted' WHERE kind = 'withdrawn'")
            named = "consent event"
        elif tamper == "entry edited":
            raw.execute("UPDATE audit_events SET outcome = 'ok' WHERE name = 'refusal'")
            named = "audit entry"
        elif tamper == "template restored":  # as that release kept it: no tag (the last column)
            raw.execute(f"INSERT INTO templates VALUES ({', '.join('?' * len(old_row))})",
                        (*old_row[:-1], None))
            named = "template row"
        else:
            raw.execute("INSERT INTO consent_events (subject_id, purpose_key, scope, kind, "
                        "notice_version, method, separate, given_by, operator, recorded_at) "
                        "SELECT subject_id, purpose_key, scope, 'granted', notice_version, "
                        "method, separate, given_by, operator, recorded_at FROM "
                        "consent_events WHERE subject_id = ? LIMIT 1", (who["walt"],))
            named = "consent event"
        before = raw.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    raw.close()
    refused = _upgrade(db)
    assert refused.exit_code == 1, refused.output
    line = refused.stderr.strip()
    assert "\n" not in line and named in line and "Traceback" not in refused.output, line
    assert line.startswith(("facegate: storage.tampered: ", "facegate: audit.chain_broken: "))
    with sqlite3.connect(db) as raw:  # nothing adopted, nothing written
        assert raw.execute("SELECT count(*) FROM audit_events").fetchone()[0] == before
        assert raw.execute("SELECT count(*) FROM templates WHERE mac IS NOT NULL"
                           ).fetchone()[0] == 0
    raw.close()
    with pytest.raises(StoreUpgradeRequired):
        open_deployment()
