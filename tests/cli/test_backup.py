"""``facegate backup`` and ``facegate restore``: a subject erased after the backup stays
unreadable after the restore, whether the key-encryption key lives in the key file (the
erasure rotated it) or comes from the environment (it did not: the erasure ledger kept
beside the keys erases the subject again)."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.crypto.keyfile import ENV_AUDIT_KEY, ENV_ERASURES, ENV_KEK
from facegate.deployment import Deployment
from facegate.errors import KeyMissing

from ..support.governed import START, add_purpose, consent
from ..support.words import both

P = "access.office.entry"


@pytest.fixture
def environ(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The keys as the test's parameter says: in the key file, or from the environment."""
    if request.param == "key file":
        yield {}
        return
    values = {ENV_KEK: base64.b64encode(os.urandom(32)).decode(),
              ENV_AUDIT_KEY: base64.b64encode(os.urandom(32)).decode(),
              ENV_ERASURES: str(tmp_path / "erasures.ledger")}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield values
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.mark.parametrize("environ", ["key file", "environment"], indirect=True)
def test_a_subject_erased_after_the_backup_stays_erased_after_the_restore(
        environ: dict[str, str], tmp_path: Path, faces: dict[str, Path],
        analyzer: FaceAnalyzer) -> None:
    db = tmp_path / "site.db"
    backup = tmp_path / "site-backup.db"
    clock = FixedClock(START)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", str(db)], obj={"analyzer": analyzer})

    with Deployment.open(db, analyzer=analyzer, clock=clock, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X")
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        # the photos are LFW's public figures: the purpose serves that population
        add_purpose(d, P, modes=("verify",), population="lfw-view1")
        alice, bob = (d.register_subject(age_band="adult").id for _ in range(2))
        for who, photo in ((alice, "obama"), (bob, "lennon1")):
            consent(d, who, P)
            d.enroll(subject=who, purpose=P, image=faces[photo])
        backed = run("backup", str(backup))
        assert backed.exit_code == 0, backed.output
        assert "key file is not in it" in backed.stdout
        assert run("backup", str(backup)).exit_code == 1  # never over an existing file
        old_keys = None
        if not environ:
            old_keys = tmp_path / "site-backup.keys"  # the key file kept with the backup
            shutil.copy2(f"{db}.keys", old_keys)
        d.erase_subject(alice)
    # What the backup holds of Alice: her wrapped data key, under the KEK of its time.
    with _raw(backup) as rows:
        (alice_kek,) = [k for s, k in rows if s == alice]

    args = ["restore", "--from", str(backup)]
    if old_keys is not None:
        args += ["--keys-from", str(old_keys)]
    restored = run(*args)
    assert restored.exit_code == 0, restored.output
    assert "1 subject(s) erased again from the erasure ledger" in restored.stdout

    with Deployment.open(db, analyzer=analyzer, clock=clock) as d:
        report = d.access_report(alice)
        assert report.erased and not report.templates
        assert d.template_count(purpose=P, subject=alice) == 0
        assert d.connection.execute("SELECT count(*) FROM subject_keys WHERE subject_id = ?",
                                    (alice,)).fetchone()[0] == 0
        verified = d.verify(subject=bob, purpose=P, image=faces["lennon2"])
        assert getattr(verified, "matched", False)
        again = [e for e in d.audit_events("subject-erased") if e.subject_id == alice]
        assert again[-1].detail["reapplied"] is True
        assert d.verify_audit().entries == d.audit_head()
        if not environ:
            # The restore rotated the key-encryption key: the KEK that wrapped Alice's data
            # key in the backup is gone again, so the backup's copy opens with nothing.
            assert alice_kek not in d.key_ring.keks
            with pytest.raises(KeyMissing):
                d.key_ring.unwrap(b"\x00" * 60, kek=alice_kek, subject_id=alice)


class _raw:
    """The (subject, kek id) rows of a store file's wrapped data keys, read as plain SQL."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self._conn = sqlite3.connect(path)

    def __enter__(self) -> list[tuple[str, str]]:
        return [(str(s), str(k)) for s, k in
                self._conn.execute("SELECT subject_id, kek_id FROM subject_keys")]

    def __exit__(self, *exc: object) -> None:
        self._conn.close()


def test_restore_takes_only_a_facegate_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["restore", "--db", str(tmp_path / "missing.db"),
                                      "--from", str(tmp_path / "nothing")])
    assert result.exit_code == 2  # --from must exist
    not_a_store = tmp_path / "notes.db"
    not_a_store.write_bytes(b"not a database")
    result = CliRunner().invoke(cli, ["restore", "--db", str(tmp_path / "x.db"),
                                      "--from", str(not_a_store)])
    assert result.exit_code == 1 and result.stderr.startswith("facegate: storage.error: ")
