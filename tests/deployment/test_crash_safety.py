"""Killing the process at random moments of a bulk enrollment leaves a consistent store (R15, R16).

A child process enrolls real faces in a loop; it is killed with SIGKILL 50
times at random delays. After every kill: no template without its consent
link and its audit entry, no audit entry without its template, no retained
image or data key without its template, every template opens, and the audit
chain verifies against its signed checkpoint.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image as PILImage

from facegate.audit.integrity import RowGuard
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.templates.keys import DataKeys
from facegate.templates.store import list_templates

from ..support.governed import consent

ACCESS = "access.office.entry"
REPO = Path(__file__).resolve().parents[2]
KILLS = 50


def _small(faces: dict[str, Path], folder: Path) -> list[str]:
    """320-pixel copies of the photos: still enrollable, quick to process."""
    folder.mkdir()
    out = []
    for name in ("obama", "obama2", "lennon1", "lennon2"):
        im = PILImage.open(faces[name]).convert("RGB")
        im.thumbnail((320, 320))
        im.save(folder / f"{name}.jpg", quality=90)
        out.append(str(folder / f"{name}.jpg"))
    return out


def _scalar(conn: object, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])  # type: ignore[attr-defined]


def _check(d: Deployment, clock: FixedClock) -> int:
    conn = d.connection
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    templates = {r[0] for r in conn.execute("SELECT uid FROM templates")}
    assert _scalar(conn, "SELECT count(*) FROM templates t LEFT JOIN consent_events c ON "
                         "c.seq = t.consent_seq AND c.subject_id = t.subject_id AND "
                         "c.purpose_key = t.purpose_key AND c.kind = 'granted' AND "
                         "c.scope = 'biometric' WHERE c.seq IS NULL") == 0
    audited = [r[0] for r in conn.execute("SELECT json_extract(detail, '$.template') FROM "
                                          "audit_events WHERE name = 'enroll'")]
    assert sorted(audited) == sorted(templates)  # one entry per template, no more, no less
    images = conn.execute("SELECT uid, template_uid FROM retained_images").fetchall()
    assert {t for _, t in images} <= templates
    assert {i for i, _ in images} == {r[0] for r in conn.execute(
        "SELECT json_extract(detail, '$.image') FROM audit_events WHERE name = 'enroll' "
        "AND json_extract(detail, '$.image') IS NOT NULL")}
    keyed = {r[0] for r in conn.execute("SELECT subject_id FROM subject_keys")}
    assert keyed == {r[0] for r in conn.execute("SELECT DISTINCT subject_id FROM templates")}
    opened = list_templates(conn, keys=DataKeys(conn, ring=d.key_ring, now=clock.now(),
                    guard=RowGuard(conn, d.row_mac)),
                            purpose_key=ACCESS, now=clock.now())
    assert len(opened) == len(templates)
    d.verify_audit()
    return len(templates)


def test_r15_r16_sigkill_during_bulk_enrollment_leaves_no_orphans(
        books: Deployment, clock: FixedClock, faces: dict[str, Path], tmp_path: Path) -> None:
    subjects = []
    for _ in range(4):
        s = books.register_subject(age_band="adult")
        consent(books, s.id, ACCESS)
        consent(books, s.id, ACCESS, scope="retain_image")
        subjects.append(s.id)
    images = _small(faces, tmp_path / "photos")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "tests.support.bulk_enroll", str(tmp_path / "facegate.db"),
               ACCESS, json.dumps(subjects), *images]
    rng = random.Random(20250901)
    stored = interrupted = 0
    for _ in range(KILLS):
        child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 120)
        line = child.stdout.readline() if ready else b""
        if line != b"ready\n":
            child.kill()
            _, err = child.communicate()
            raise AssertionError(f"the child did not start: {err.decode()[-2000:]}")
        # Wait for the first enrollment to begin, so that a slow (loaded) machine still
        # kills inside the bulk enrollment rather than before it.
        started, _, _ = select.select([child.stdout], [], [], 120)
        first = child.stdout.readline() if started else b""
        assert first.startswith(b"start"), "no enrollment began"
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        lines = (first + out).decode().split()
        interrupted += len(lines) >= 2 and lines[-2] == "start"  # killed inside an enrollment
        stored = _check(books, clock)
    assert stored > 0 and interrupted >= KILLS // 2
