"""Protected storage on real faces and real SQLite files (R8, R9, R10, R16, R23).

Templates are sealed, raw images are kept only sealed and only with separate
consent, erasure shreds the subject's key so backups taken before cannot be
opened, key rotation re-wraps without re-enrolling, and the retention sweep
erases exactly what expired.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer
from facegate.audit.integrity import RowGuard
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.crypto.envelope import open_sealed
from facegate.deployment import Deployment
from facegate.errors import (
    CryptoInvalid,
    ImageRetentionRefused,
    KeyMissing,
    StoreTampered,
    SubjectNotFound,
)
from facegate.images import load_image
from facegate.templates.images import open_image
from facegate.templates.keys import DataKeys
from facegate.templates.store import list_templates, open_descriptor

from ..support.asserts import assert_refused
from ..support.governed import add_purpose, consent
from ..support.storage import JPEG, PNG, backup, files_on_disk, windows
from ..support.words import both

ACCESS = "access.office.entry"


def _enrolled(d: Deployment, faces: dict[str, Path], *names: str,
              retain: bool = False) -> dict[str, str]:
    """One subject per photo, consented and enrolled for ACCESS; name -> subject id."""
    ids = {}
    for name in names:
        s = d.register_subject(age_band="adult")
        consent(d, s.id, ACCESS)
        if retain:
            consent(d, s.id, ACCESS, scope="retain_image")
        d.enroll(subject=s.id, purpose=ACCESS, image=faces[name], retain_image=retain)
        ids[name] = s.id
    return ids


def _keys(d: Deployment, clock: FixedClock) -> DataKeys:
    return DataKeys(d.connection, ring=d.key_ring, now=clock.now(),
                    guard=RowGuard(d.connection, d.row_mac))


def _plaintexts(d: Deployment, clock: FixedClock, analyzer: FaceAnalyzer,
                faces: dict[str, Path], names: tuple[str, ...]) -> list[bytes]:
    """The descriptors as the engine computes them and as the store opens them."""
    stored = [t.descriptor.to_bytes() for t in
              list_templates(d.connection, keys=_keys(d, clock), purpose_key=ACCESS,
                             now=clock.now())]
    engine = []
    for name in names:
        descriptor = analyzer.embed_single(faces[name]).descriptor
        assert descriptor is not None
        engine.append(descriptor.to_bytes())
    assert len(stored) == len(names)
    for mine in engine:  # the engine's bytes are what was sealed
        assert min(np.abs(np.frombuffer(mine, "<f4") - np.frombuffer(s, "<f4")).max()
                   for s in stored) < 1e-5
    return stored + engine


def test_r16_no_template_or_image_in_plaintext_on_disk(
        books: Deployment, clock: FixedClock, analyzer: FaceAnalyzer,
        faces: dict[str, Path], tmp_path: Path) -> None:
    names = ("obama", "biden", "lennon1")
    ids = _enrolled(books, faces, *names)
    books.verify(subject=ids["obama"], purpose=ACCESS, image=faces["obama2"])
    secrets = _plaintexts(books, clock, analyzer, faces, names)
    on_disk = files_on_disk(tmp_path)
    assert "facegate.db-wal" in on_disk and "facegate.db.keys" in on_disk
    for name, data in on_disk.items():
        for secret in secrets:
            assert secret not in data, name
            for window in windows(secret):
                assert window not in data, name
            as_float64 = np.frombuffer(secret, "<f4").astype("<f8").tobytes()
            assert as_float64[:64] not in data, name
        assert JPEG not in data and PNG not in data, name
        for photo in names:
            assert faces[photo].read_bytes()[2000:2032] not in data, name
    assert oct((tmp_path / "facegate.db.keys").stat().st_mode & 0o777) == "0o600"


def test_r10_images_are_kept_only_sealed_and_only_with_separate_consent(
        books: Deployment, clock: FixedClock, faces: dict[str, Path], tmp_path: Path) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    with pytest.raises(ImageRetentionRefused) as refused:
        d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"], retain_image=True)
    assert_refused(refused.value, "image.retention_refused", "R10")
    assert d.connection.execute("SELECT count(*) FROM retained_images").fetchone()[0] == 0
    consent(d, alice.id, ACCESS, scope="retain_image")
    enrolled = d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"],
                        retain_image=True)
    assert enrolled.image_uid is not None
    png = open_image(d.connection, keys=_keys(d, clock), uid=enrolled.image_uid)
    assert png.startswith(PNG)
    kept = np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(kept, load_image(faces["obama"]).pixels)
    for name, data in files_on_disk(tmp_path).items():  # only ciphertext on disk
        assert PNG not in data and b"IHDR" not in data and b"JFIF" not in data, name
        for window in windows(png[64:]):
            assert window not in data, name
    # A sealed image moved to another row does not open.
    d.connection.execute("UPDATE retained_images SET purpose_key = 'hr.attendance'")
    with pytest.raises(CryptoInvalid):
        open_image(d.connection, keys=_keys(d, clock), uid=enrolled.image_uid)
    d.connection.execute("UPDATE retained_images SET purpose_key = ?", (ACCESS,))
    report = d.access_report(alice.id)
    assert [i["uid"] for i in report.images] == [enrolled.image_uid]
    # Erased with the templates: withdrawing biometric consent deletes both.
    receipt = d.withdraw_consent(subject=alice.id, purpose=ACCESS)
    assert (receipt.templates_deleted, receipt.images_deleted) == (1, 1)


def test_r16_a_row_moved_to_another_subject_or_purpose_does_not_open(
        books: Deployment, clock: FixedClock, faces: dict[str, Path]) -> None:
    ids = _enrolled(books, faces, "obama", "biden")
    conn = books.connection
    row = conn.execute("SELECT uid, descriptor, pack, pack_version FROM templates "
                       "WHERE subject_id = ?", (ids["obama"],)).fetchone()
    conn.execute("UPDATE templates SET subject_id = ? WHERE subject_id = ?",
                 (ids["biden"], ids["obama"]))
    # The row's tag no longer verifies: refused before it is opened, and audited.
    with pytest.raises(StoreTampered) as exc:
        books.verify(subject=ids["biden"], purpose=ACCESS, image=faces["biden"])
    assert exc.value.code == "storage.tampered" and exc.value.details["table"] == "templates"
    (failure,) = books.audit_events("integrity-failure")  # the failed access is on the log
    assert failure.outcome == "storage.tampered"
    conn.execute("UPDATE templates SET subject_id = ?, purpose_key = 'hr.attendance' "
                 "WHERE uid = (SELECT min(uid) FROM templates)", (ids["obama"],))
    with pytest.raises(StoreTampered):
        list_templates(conn, keys=_keys(books, clock), purpose_key="hr.attendance",
                       now=clock.now())
    # And the seal binds the row too: even with a valid tag it would not open elsewhere.
    key = _keys(books, clock).require(ids["obama"])  # its own key, another subject's row
    with pytest.raises(CryptoInvalid):
        open_descriptor(key, bytes(row[1]), uid=str(row[0]), subject_id=ids["biden"],
                        purpose_key=ACCESS, pack=str(row[2]), pack_version=str(row[3]))


def test_r23_erasure_shreds_the_subject_and_leaves_only_a_receipt(
        books: Deployment, clock: FixedClock, faces: dict[str, Path], tmp_path: Path) -> None:
    d = books
    ids = _enrolled(d, faces, "obama", "biden", retain=True)
    alice, bob = ids["obama"], ids["biden"]
    d.verify(subject=alice, purpose=ACCESS, image=faces["obama2"])
    before = d.access_report(alice)
    assert before.templates and before.images and before.consents and before.events
    assert "descriptor" not in json.dumps(before.as_dict(), default=str)
    old = sqlite3.connect(backup(d, tmp_path / "backup"))
    wrapped, kek = old.execute("SELECT wrapped, kek_id FROM subject_keys WHERE subject_id = ?",
                               (alice,)).fetchone()
    sealed = [r[0] for r in old.execute("SELECT descriptor FROM templates WHERE subject_id = ? "
                                        "UNION ALL SELECT image FROM retained_images WHERE "
                                        "subject_id = ?", (alice, alice))]
    old.close()

    receipt = d.erase_subject(alice)
    assert (receipt.templates, receipt.images, receipt.data_key_destroyed,
            receipt.kek_rotated) == (1, 1, True, True)
    # No key this deployment holds opens the backup's wrapped data key.
    with pytest.raises(KeyMissing):
        d.key_ring.unwrap(wrapped, kek=kek, subject_id=alice)
    for kek_id, key in d.key_ring.keks.items():
        with pytest.raises(CryptoInvalid):
            d.key_ring.unwrap(wrapped, kek=kek_id, subject_id=alice)
        for blob in sealed:
            with pytest.raises(CryptoInvalid):
                open_sealed(key, blob, b"")
    # Restoring the backup beside today's key file does not bring her back.
    restored = tmp_path / "restored"
    restored.mkdir()
    (tmp_path / "backup" / "facegate.db").rename(restored / "facegate.db")
    (restored / "facegate.db.keys").write_bytes((tmp_path / "facegate.db.keys").read_bytes())
    (restored / "facegate.db.keys").chmod(0o600)
    with Deployment.open(restored / "facegate.db", clock=clock) as old_store, \
            pytest.raises(KeyMissing):
        old_store.template_count(purpose=ACCESS, subject=alice)
    # Nothing of hers is left in the store, its WAL or the key file.
    conn = d.connection
    for table in ("templates", "retained_images", "subject_keys", "consent_events"):
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE subject_id = ?",
                            (alice,)).fetchone()[0] == 0, table
    for name, data in files_on_disk(tmp_path).items():
        if not name.startswith(("backup", "restored")):
            assert wrapped not in data and wrapped[13:29] not in data, name
            assert all(blob[20:52] not in data for blob in sealed), name
    # She is not matched; the others still are.
    result = d.identify(purpose=ACCESS, image=faces["obama2"])
    assert alice not in [c.subject_id for c in result.candidates]
    assert d.identify(purpose=ACCESS, image=faces["biden"]).candidates[0].subject_id == bob
    with pytest.raises(SubjectNotFound):
        d.verify(subject=alice, purpose=ACCESS, image=faces["obama2"])
    # The access report shows only the receipt; the log keeps her entries and verifies.
    after = d.access_report(alice)
    assert after.erased and [e["seq"] for e in after.erasures] == [receipt.seq]
    assert (after.subject, after.consents, after.templates, after.images, after.events) == (
        None, [], [], [], [])
    assert after.erasures[0]["detail"]["data_key_destroyed"] is True
    assert any(e.name == "verify" for e in d.audit_events() if e.subject_id == alice)
    assert d.verify_audit().entries == len(d.audit_events())
    with pytest.raises(SubjectNotFound):
        d.erase_subject(alice)


def test_r16_rotation_rewraps_every_key_and_the_old_key_opens_nothing(
        books: Deployment, clock: FixedClock, faces: dict[str, Path],
        open_deployment: object, tmp_path: Path) -> None:
    d = books
    ids = _enrolled(d, faces, "obama", "lennon1")
    old_ring = d.key_ring
    wrapped = d.connection.execute("SELECT subject_id, kek_id, wrapped FROM subject_keys"
                                   ).fetchall()
    assert {r[1] for r in wrapped} == {old_ring.active}
    rotation = d.rotate_keys()
    assert rotation.data_keys == 2 and rotation.retired == (old_ring.active,)
    assert old_ring.active not in (tmp_path / "facegate.db.keys").read_text()
    for name, probe in (("obama", "obama2"), ("lennon1", "lennon2")):
        result = d.verify(subject=ids[name], purpose=ACCESS, image=faces[probe])
        assert getattr(result, "matched", False), name
    old_key = old_ring.keks[old_ring.active]
    for subject, kek, blob in d.connection.execute(
            "SELECT subject_id, kek_id, wrapped FROM subject_keys"):
        assert kek == rotation.kek
        with pytest.raises(KeyMissing):
            old_ring.unwrap(blob, kek=kek, subject_id=subject)
        with pytest.raises(CryptoInvalid):
            open_sealed(old_key, blob, b"facegate.data-key.v1\x00" + kek.encode() + b"\x00" +
                        subject.encode())
    for (blob,) in d.connection.execute("SELECT descriptor FROM templates"):
        with pytest.raises(CryptoInvalid):
            open_sealed(old_key, blob, b"")
    assert [e.detail["data_keys"] for e in d.audit_events("key-rotated")] == [2]


def test_r16_keys_from_the_environment_and_missing_keys(
        tmp_path: Path, clock: FixedClock, analyzer: FaceAnalyzer) -> None:
    import base64
    import os

    env = {"FACEGATE_KEK": base64.b64encode(os.urandom(32)).decode(),
           "FACEGATE_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode()}
    with Deployment.open(tmp_path / "env.db", clock=clock, analyzer=analyzer,
                         environ=env, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X")
        first = d.key_ring.active
    assert not (tmp_path / "env.db.keys").exists()  # nothing secret written to disk
    with pytest.raises(KeyMissing):
        Deployment.open(tmp_path / "env.db", clock=clock, environ={})
    rotated = dict(env, FACEGATE_NEW_KEK=base64.b64encode(os.urandom(32)).decode())
    with Deployment.open(tmp_path / "env.db", clock=clock, environ=rotated) as d:
        assert d.rotate_keys().kek != first
        assert d.verify_audit().entries == 2


def test_r9_the_sweep_erases_exactly_the_expired_templates_and_audits_it(
        books: Deployment, clock: FixedClock, faces: dict[str, Path]) -> None:
    d = books
    add_purpose(d, "access.visitor", retention_days=30)
    alice, bob = d.register_subject(age_band="adult"), d.register_subject(age_band="adult")
    for s in (alice, bob):
        consent(d, s.id, "access.visitor")
        consent(d, s.id, "access.visitor", scope="retain_image")
    consent(d, alice.id, ACCESS)
    short = [d.enroll(subject=alice.id, purpose="access.visitor", image=faces["obama"]),
             d.enroll(subject=bob.id, purpose="access.visitor", image=faces["lennon1"],
                      retain_image=True)]
    clock.advance(timedelta(days=10))
    long = d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    clock.advance(timedelta(days=19, hours=23))
    assert d.sweep_retention().templates == 0  # 30 days not yet over
    clock.advance(timedelta(hours=1))
    sweep = d.sweep_retention()
    assert (sweep.templates, sweep.images, sweep.data_keys_destroyed) == (2, 1, 1)
    assert sweep.subjects == tuple(sorted((alice.id, bob.id)))
    left = [r[0] for r in d.connection.execute("SELECT uid FROM templates")]
    assert left == [long.template_uid] and short[0].template_uid not in left
    assert d.connection.execute("SELECT subject_id FROM subject_keys").fetchall() == [
        (alice.id,)]  # bob holds nothing now: his data key is gone too
    (event,) = d.audit_events("retention-sweep")[-1:]
    assert event.detail == {"templates": 2, "images": 1, "data_keys_destroyed": 1,
                            "subjects": sorted((alice.id, bob.id))}
    assert d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama"]).matched  # type: ignore[union-attr]


def test_r16_an_injected_plain_template_is_refused_never_sealed(
        books: Deployment, clock: FixedClock, faces: dict[str, Path], analyzer: FaceAnalyzer,
        open_deployment: Callable[..., Deployment], tmp_path: Path) -> None:
    """Someone with write access to the store but no key file inserts a plain template for
    subject A (A's consent link, the attacker's own face): no open seals or adopts it, every
    command refuses the store naming the row, and the attacker's face never matches A."""
    ids = _enrolled(books, faces, "obama")
    alice = ids["obama"]
    (consent_seq,) = books.connection.execute(
        "SELECT consent_seq FROM templates WHERE subject_id = ?", (alice,)).fetchone()
    attacker = analyzer.embed_single(faces["biden"]).descriptor
    assert attacker is not None
    books.close()
    with sqlite3.connect(tmp_path / "facegate.db") as raw:
        raw.execute("INSERT INTO templates (subject_id, purpose_key, site_key, pack, "
                    "pack_version, descriptor, consent_seq, created_at, expires_at) VALUES "
                    "(?, ?, 'hq.lobby', ?, ?, ?, ?, ?, ?)",
                    (alice, ACCESS, attacker.pack, attacker.pack_version, attacker.to_bytes(),
                     consent_seq, clock.now().isoformat(),
                     (clock.now() + timedelta(days=30)).isoformat()))
        (row_id,) = raw.execute("SELECT max(id) FROM templates").fetchone()
    raw.close()
    with pytest.raises(StoreTampered) as exc:
        open_deployment()
    assert exc.value.details == {"table": "templates", "row": row_id, "rule": "R16"}
    result = CliRunner().invoke(cli, ["verify", "--db", str(tmp_path / "facegate.db"),
                                      "--subject", alice, "--purpose", ACCESS,
                                      str(faces["biden"])])
    assert result.exit_code == 1
    assert result.stderr == (f"facegate: storage.tampered: template row {row_id} is not sealed: "
                             "a store with keys never holds unsealed templates, and they are "
                             "not adopted\n")
    with sqlite3.connect(tmp_path / "facegate.db") as raw:  # still unsealed: nothing adopted it
        assert raw.execute("SELECT uid, mac FROM templates WHERE id = ?",
                           (row_id,)).fetchone() == (None, None)
    raw.close()


def test_r16_a_rotation_by_another_process_is_picked_up(
        books: Deployment, faces: dict[str, Path],
        open_deployment: Callable[..., Deployment]) -> None:
    ids = _enrolled(books, faces, "obama")
    other = open_deployment()  # a second process on the same store, say the CLI
    other.rotate_keys()
    result = books.verify(subject=ids["obama"], purpose=ACCESS, image=faces["obama2"])
    assert getattr(result, "matched", False)
    late = _enrolled(books, faces, "lennon1")  # wrapped under the new key, not the retired one
    assert {r[0] for r in books.connection.execute("SELECT kek_id FROM subject_keys")} == {
        other.key_ring.active}
    third = open_deployment()
    result = third.verify(subject=late["lennon1"], purpose=ACCESS, image=faces["lennon2"])
    assert getattr(result, "matched", False)
