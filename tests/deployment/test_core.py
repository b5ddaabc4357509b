"""The service layer: one transaction per call, refusals on the trail, nothing half-done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from facegate.deployment import Deployment
from facegate.errors import ConsentRequired, NoFaceFound, ProcessorNotRegistered

from ..support.governed import consent
from ..support.words import both

ACCESS = "access.office.entry"


#: Every test here that opens a deployment runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def test_a_failed_enrollment_leaves_nothing_behind(books: Deployment, tmp_path: Path) -> None:
    alice = books.register_subject(age_band="adult")
    consent(books, alice.id, ACCESS)
    blank = tmp_path / "wall.png"
    PILImage.fromarray(np.full((240, 320, 3), 200, dtype=np.uint8)).save(blank)
    before = len(books.audit_events())
    with pytest.raises(NoFaceFound):
        books.enroll(subject=alice.id, purpose=ACCESS, image=blank)
    assert books.template_count(purpose=ACCESS) == 0
    assert len(books.audit_events()) == before  # rolled back as a whole


def test_refusals_are_on_the_trail_without_biometric_data(books: Deployment,
                                                          faces: dict[str, Path]) -> None:
    alice = books.register_subject(age_band="adult")
    with pytest.raises(ConsentRequired):
        books.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    (event,) = books.audit_events("refusal")
    assert (event.subject_id, event.purpose_key, event.rule, event.outcome) == (
        alice.id, ACCESS, "R2", "consent.missing")
    assert event.detail["action"] == "enroll"
    rows = books.connection.execute("SELECT detail FROM audit_events").fetchall()
    assert all(len(r[0]) < 400 for r in rows)


def test_nothing_runs_before_the_processor_is_registered(tmp_path: Path) -> None:
    with Deployment.open(tmp_path / "empty.db", create=True) as d, \
            pytest.raises(ProcessorNotRegistered):
        d.register_site(key="x", name=both("x"), site_type="office")
