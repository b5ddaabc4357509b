"""Capture guidance (``Deployment.assess_capture``): quality advice on a live frame for
a consenting subject, through the gate, audited, storing and comparing nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegate.deployment import Deployment
from facegate.errors import ConsentRequired, LivenessRequired

from ..support.governed import add_purpose, consent

PURPOSE = "access.office.entry"


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=92)
    return out.getvalue()


def test_guidance_needs_the_subjects_consent_and_the_refusal_is_audited(
        books: Deployment, faces: dict[str, Path]) -> None:
    s = books.register_subject(age_band="adult")
    with pytest.raises(ConsentRequired):
        books.assess_capture(subject=s.id, purpose=PURPOSE, image=faces["obama"])
    refusal = books.audit_events("refusal")[-1]
    assert (refusal.outcome, refusal.detail["action"]) == ("consent.missing", "capture-guidance")
    assert books.audit_events("capture-guidance") == []


def test_a_good_frame_passes_and_nothing_is_stored(books: Deployment,
                                                   faces: dict[str, Path]) -> None:
    s = books.register_subject(age_band="adult")
    consent(books, s.id, PURPOSE)
    advice = books.assess_capture(subject=s.id, purpose=PURPOSE, image=faces["obama"])
    assert advice.passed and advice.reasons == ()
    assert books.template_count(purpose=PURPOSE, subject=s.id) == 0
    (entry,) = books.audit_events("capture-guidance")
    assert (entry.outcome, entry.subject_id, entry.detail["reasons"]) == ("ok", s.id, [])


def test_a_dark_or_distant_frame_says_what_to_change(books: Deployment,
                                                     faces: dict[str, Path]) -> None:
    s = books.register_subject(age_band="adult")
    consent(books, s.id, PURPOSE)
    photo = Image.open(faces["obama"]).convert("RGB")
    dark = Image.fromarray((np.asarray(photo, dtype=np.float32) * 0.12).astype(np.uint8))
    advice = books.assess_capture(subject=s.id, purpose=PURPOSE, image=_jpeg(dark))
    assert not advice.passed and "low_brightness" in advice.reasons
    canvas = Image.new("RGB", (1600, 1200), (128, 128, 128))
    canvas.paste(photo.resize((photo.width // 5, photo.height // 5)), (700, 500))
    far = books.assess_capture(subject=s.id, purpose=PURPOSE, image=_jpeg(canvas))
    assert not far.passed and far.reasons[0] in ("small_face", "no_face")
    assert [e.outcome for e in books.audit_events("capture-guidance")] == ["adjust", "adjust"]


def test_guidance_comes_before_the_liveness_challenge(books: Deployment,
                                                      faces: dict[str, Path]) -> None:
    add_purpose(books, "access.lab.entry", modes=("verify",), liveness_required=True)
    s = books.register_subject(age_band="adult")
    consent(books, s.id, "access.lab.entry")
    assert books.assess_capture(subject=s.id, purpose="access.lab.entry",
                                image=faces["obama"], operation="verify").passed
    with pytest.raises(LivenessRequired):
        books.enroll(subject=s.id, purpose="access.lab.entry", image=faces["obama"])


def test_subjects_lists_the_newest_first(books: Deployment) -> None:
    first = books.register_subject(age_band="adult")
    assert [x.id for x in books.subjects()] == [first.id]
    assert len(books.subjects(limit=0)) == 0
