"""Review with faces through the service (R19, R10): an authorised reviewer of the
case's purpose opens the probe's face, cut out as JPEG in memory and never cached;
the candidate's reference photo only where one was kept with its own consent, else
what to check instead; the score's false-match rate with its interval, never a bare
0; every viewing and every refusal in the audit log, with no image in it."""

from __future__ import annotations

import base64
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer

from ..support.governed import consent
from ..support.storage import files_on_disk, windows
from .conftest import Api

P = "access.office.entry"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _case(api: Api, faces: dict[str, Path], *, retain: bool = False) -> str:
    """A pending case: obama enrolled (his photo kept where ``retain``), obama2 identified."""
    d, admin = api.deployment, api.headers("admin")
    assert api.client.put(f"/v1/purposes/{P}/review", json={"window_minutes": 30},
                          headers=admin).status_code == 200
    reviewer = next(k.id for k in d.api_keys() if k.label == "test reviewer")
    assert api.client.post(f"/v1/purposes/{P}/reviewers", json={"reviewer_key": reviewer},
                           headers=admin).status_code == 201
    s = d.register_subject(age_band="adult")
    consent(d, s.id, P)
    if retain:
        consent(d, s.id, P, scope="retain_image")
    d.enroll(subject=s.id, purpose=P, image=faces["obama"], retain_image=retain)
    hit = api.client.post("/v1/identify", json={"purpose": P, "image": _b64(faces["obama2"])},
                          headers=api.headers("operator")).json()
    case: str = hit["faces"][0]["candidates"][0]["review_case"]
    return case


def _code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder every ``tempfile`` user of this process writes to."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_r19_the_authorised_reviewer_sees_the_probe_face_in_memory_only(
        api: Api, faces: dict[str, Path], analyzer: FaceAnalyzer, watched_tmp: Path,
        tmp_path: Path) -> None:
    case = _case(api, faces)
    probe = api.client.get(f"/v1/review/cases/{case}/probe", headers=api.headers("reviewer"))
    assert probe.status_code == 200
    assert probe.headers["content-type"] == "image/jpeg"
    assert "no-store" in probe.headers["cache-control"]
    assert probe.headers["pragma"] == "no-cache"
    crop = PILImage.open(io.BytesIO(probe.content))
    crop.load()
    with PILImage.open(faces["obama2"]) as whole:
        whole.load()
    assert crop.format == "JPEG" and crop.width < whole.width and crop.height < whole.height
    assert len(analyzer.detect(probe.content)) == 1  # the face, cut out with its margin
    # made and sent from memory: no temporary file, nothing on disk beside the sealed store
    assert list(watched_tmp.rglob("*")) == []
    for name, data in files_on_disk(tmp_path).items():
        assert not any(w in data for w in windows(probe.content[64:])), name
    (viewed,) = api.deployment.audit_events("review-face-viewed")
    reviewer = next(k for k in api.deployment.api_keys() if k.label == "test reviewer")
    assert viewed.operator == reviewer.principal and viewed.rule == "R19"
    assert viewed.detail == {"case": case, "session": viewed.detail["session"],
                             "image": "probe", "reviewer": reviewer.principal}
    assert len(json.dumps(viewed.detail)) < 300  # names, no image, no descriptor


def test_r19_others_are_refused_the_face(api: Api, faces: dict[str, Path]) -> None:
    case = _case(api, faces)
    unauthorised = api.client.get(f"/v1/review/cases/{case}/probe",
                                  headers=api.headers("reviewer2"))
    assert unauthorised.status_code == 403
    assert _code(unauthorised) == "review.reviewer_not_authorised"
    refusal = api.deployment.audit_events("refusal")[-1]
    assert (refusal.outcome, refusal.detail["action"], refusal.detail["image"]) == (
        "review.reviewer_not_authorised", "review-view", "probe")
    for role in ("operator", "auditor", "subject", "admin"):
        for image in ("probe", "reference"):
            refused = api.client.get(f"/v1/review/cases/{case}/{image}",
                                     headers=api.headers(role))
            assert refused.status_code == 403, (role, image)
            assert "image" not in refused.headers["content-type"]
    assert api.deployment.audit_events("review-face-viewed") == []


def test_r19_a_decided_case_shows_no_face(api: Api, faces: dict[str, Path]) -> None:
    case = _case(api, faces)
    reviewer = api.headers("reviewer")
    assert api.client.post(f"/v1/review/cases/{case}/confirm", json={"reason": "same person"},
                           headers=reviewer).json()["case"]["status"] == "confirmed"
    closed = api.client.get(f"/v1/review/cases/{case}/probe", headers=reviewer)
    assert closed.status_code == 410 and _code(closed) == "review.images_closed"
    assert api.deployment.audit_events("refusal")[-1].outcome == "review.images_closed"


def test_r21_the_case_shows_its_false_match_rate_never_a_bare_zero(
        api: Api, faces: dict[str, Path]) -> None:
    case = _case(api, faces)
    body = api.client.get(f"/v1/review/cases/{case}", headers=api.headers("reviewer")).json()
    fmr = body["evidence"]["fmr"]
    low, high = fmr["ci95"]
    assert fmr["pairs"] > 0 and 0 <= low <= high < 1
    assert fmr["value"] > 0.0
    if fmr["false_matches"] == 0:  # none observed: the interval's upper bound, marked as one
        assert fmr["upper_bound"] and fmr["value"] == high
        assert fmr["text"]["en"].startswith("< ") and "95% CI 0–" in fmr["text"]["en"]
        assert fmr["text"]["zh"].startswith("< ") and "95% 置信区间" in fmr["text"]["zh"]
    else:
        assert fmr["value"] == fmr["false_matches"] / fmr["pairs"]
    for words in fmr["text"].values():
        assert "0.0%" not in words and not words.startswith("0%")


def test_r10_without_a_kept_photo_the_case_says_what_to_check(
        api: Api, faces: dict[str, Path]) -> None:
    case = _case(api, faces)
    reviewer = api.headers("reviewer")
    evidence = api.client.get(f"/v1/review/cases/{case}", headers=reviewer).json()["evidence"]
    assert evidence["reference"] is False and evidence["images"] == {
        "probe": f"/v1/review/cases/{case}/probe", "reference": None}
    assert "staff badge with guard check" in evidence["instead"]["en"]
    assert "ID document" in evidence["instead"]["en"]
    assert "身份证件" in evidence["instead"]["zh"] and "参考照片" in evidence["instead"]["zh"]
    missing = api.client.get(f"/v1/review/cases/{case}/reference", headers=reviewer)
    assert missing.status_code == 404 and _code(missing) == "review.no_reference"
    assert missing.json()["error"]["details"]["instead"] == evidence["instead"]


def test_r10_a_photo_kept_with_its_own_consent_is_the_reference(
        api: Api, faces: dict[str, Path], analyzer: FaceAnalyzer) -> None:
    case = _case(api, faces, retain=True)
    reviewer = api.headers("reviewer")
    evidence = api.client.get(f"/v1/review/cases/{case}", headers=reviewer).json()["evidence"]
    assert evidence["reference"] is True and evidence["instead"] is None
    reference = api.client.get(evidence["images"]["reference"], headers=reviewer)
    assert reference.status_code == 200 and reference.headers["content-type"] == "image/jpeg"
    assert "no-store" in reference.headers["cache-control"]
    assert len(analyzer.detect(reference.content)) == 1
    assert [e.detail["image"] for e in api.deployment.audit_events("review-face-viewed")] == [
        "reference"]
