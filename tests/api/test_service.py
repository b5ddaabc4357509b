"""The service end to end on real faces and a real SQLite store: consent and the
subject's token, enroll (multipart and base64, idempotent), verify, identify with
review, the subject's own access, withdrawal and erasure, liveness; and the one
error shape for refusals and bad input."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app

from .conftest import Api

P = "access.office.entry"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _subject_with_consent(api: Api, purpose: str = P) -> tuple[str, str]:
    op = api.headers("operator")
    subject = api.client.post("/v1/subjects", json={"age_band": "adult"}, headers=op)
    assert subject.status_code == 201
    sid = subject.json()["subject"]["id"]
    r = api.client.post("/v1/consents", json={"subject": sid, "purpose": purpose,
                                              "notice_version": 1}, headers=op)
    assert r.status_code == 201, r.json()
    return sid, r.json()["subject_token"]


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "rule", "request_id", "details"}
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


def test_consent_enroll_verify_identify_and_the_subjects_own_token(
        api: Api, faces: dict[str, Path]) -> None:
    op = api.headers("operator")
    sid, token = _subject_with_consent(api)
    with faces["obama"].open("rb") as photo:
        r = api.client.post("/v1/enroll", data={"subject": sid, "purpose": P},
                            files={"image": ("obama.jpg", photo, "image/jpeg")}, headers=op)
    assert r.status_code == 201, r.json()
    enrolled = r.json()
    assert enrolled["model"] == {"pack": "dlib-resnet-v1", "version": "1.0"}
    assert enrolled["image_retained"] is False

    same = api.client.post("/v1/verify", json={"subject": sid, "purpose": P,
                                               "image": _b64(faces["obama2"])}, headers=op)
    other = api.client.post("/v1/verify", json={"subject": sid, "purpose": P,
                                                "image": _b64(faces["biden"])}, headers=op)
    assert same.status_code == other.status_code == 200
    assert same.json()["matched"] is True and other.json()["matched"] is False
    assert same.json()["distance"] < same.json()["threshold"] < other.json()["distance"]
    assert same.json()["model"]["pack"] == "dlib-resnet-v1"

    found = api.client.post("/v1/identify", json={"purpose": P, "image": _b64(faces["obama2"])},
                            headers=op).json()
    assert [c["subject"] for c in found["faces"][0]["candidates"]] == [sid]
    assert found["faces"][0]["candidates"][0]["model"]["version"] == "1.0"
    stranger = api.client.post("/v1/identify", json={"purpose": P,
                                                     "image": _b64(faces["biden"])}, headers=op)
    assert stranger.json()["no_match"] is True and stranger.json()["faces"][0]["candidates"] == []

    mine = api.client.get("/v1/me", headers={"X-API-Key": token})
    assert mine.status_code == 200
    report = mine.json()["report"]
    assert report["subject_id"] == sid and len(report["templates"]) == 1
    assert "descriptor" not in str(report) and "vector" not in str(report)
    other_subject = api.client.get(f"/v1/subjects/{sid}/access-report",
                                   headers={"X-API-Key": token})
    assert other_subject.status_code == 403

    withdrawn = api.client.post("/v1/me/withdrawals", json={"purpose": P},
                                headers={"X-API-Key": token})
    assert withdrawn.status_code == 200 and withdrawn.json()["templates_deleted"] == 1
    refused = api.client.post("/v1/verify", json={"subject": sid, "purpose": P,
                                                  "image": _b64(faces["obama2"])}, headers=op)
    assert refused.status_code == 403
    assert _error(refused)["code"] == "consent.withdrawn" and _error(refused)["rule"] == "R4"

    erased = api.client.delete("/v1/me", headers={"X-API-Key": token})
    assert erased.status_code == 200
    after = api.client.get("/v1/me", headers={"X-API-Key": token}).json()["report"]
    assert after["erased"] is True and len(after["erasures"]) == 1
    assert after["templates"] == [] and after["consents"] == []


def test_enroll_is_idempotent_under_one_key(api: Api, faces: dict[str, Path]) -> None:
    op = {**api.headers("operator"), "Idempotency-Key": "enroll-42"}
    sid, _ = _subject_with_consent(api)
    body = {"subject": sid, "purpose": P, "image": _b64(faces["obama"])}
    first = api.client.post("/v1/enroll", json=body, headers=op)
    again = api.client.post("/v1/enroll", json=body, headers=op)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert api.deployment.template_count(purpose=P, subject=sid) == 1
    changed = api.client.post("/v1/enroll", json={**body, "image": _b64(faces["obama2"])},
                              headers=op)
    assert changed.status_code == 409
    assert _error(changed)["code"] == "request.idempotency_conflict"
    assert api.deployment.template_count(purpose=P, subject=sid) == 1


def test_refusals_cite_the_rule_and_nothing_is_stored(api: Api, faces: dict[str, Path]) -> None:
    op = api.headers("operator")
    sid = api.client.post("/v1/subjects", json={}, headers=op).json()["subject"]["id"]
    r = api.client.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                            "image": _b64(faces["obama"])}, headers=op)
    assert r.status_code == 403
    error = _error(r)
    assert (error["code"], error["rule"]) == ("consent.missing", "R2")
    assert error["details"]["article"]
    assert api.deployment.template_count(purpose=P, subject=sid) == 0

    declined = api.client.post("/v1/declines", json={"purpose": P, "subject": sid}, headers=op)
    assert declined.json() == {"route_to_alternative": True, "purpose": P,
                               "alternatives": [{"key": "staff badge with guard check",
                                                 "name": {"zh": "员工卡加保安核验",
                                                          "en": "staff badge with guard check"}}]}


def test_bad_input_gets_one_error_shape(api: Api, faces: dict[str, Path]) -> None:
    op = api.headers("operator")
    sid, _ = _subject_with_consent(api)
    cases = [
        (api.client.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                             "image": base64.b64encode(b"GIF89a" + b"\0" * 50)
                                             .decode()}, headers=op),
         {415, 422}, ("image.unsupported_format", "image.undecodable")),
        (api.client.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                             "image": "%%%not base64"}, headers=op),
         {422}, ("request.invalid",)),
        (api.client.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                             "image": _b64(faces["obama"])[:3000]}, headers=op),
         {422}, ("request.invalid", "image.undecodable")),
        (api.client.post("/v1/enroll", content=b"hello", headers={**op,
                                                                  "content-type": "text/plain"}),
         {415}, ("request.unsupported_media_type",)),
        (api.client.post("/v1/enroll", content=b"{not json", headers={
            **op, "content-type": "application/json"}), {422}, ("request.invalid",)),
        (api.client.post("/v1/subjects", json={"age_band": "ancient"}, headers=op),
         {422}, ("request.invalid",)),
        (api.client.get("/v1/no/such/thing", headers=op), {404}, ("request.not_found",)),
        (api.client.delete("/v1/processor", headers=op), {405},
         ("request.method_not_allowed",)),
        (api.client.post("/v1/enroll", content=b"x" * (3 * 1024 * 1024), headers={
            **op, "content-type": "application/json"}), {413}, ("request.too_large",)),
    ]
    for response, statuses, codes in cases:
        assert response.status_code in statuses, (response.status_code, response.text[:200])
        assert _error(response)["code"] in codes
    assert api.deployment.template_count(purpose=P, subject=sid) == 0


def test_security_headers_and_request_ids(api: Api) -> None:
    r = api.client.get("/health", headers={"X-Request-ID": "door-7.req-1"})
    assert r.headers["x-request-id"] == "door-7.req-1"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-facegate-model"] == "dlib-resnet-v1/1.0"
    odd = api.client.get("/health", headers={"X-Request-ID": "<script>"})
    assert odd.headers["x-request-id"] != "<script>"
    assert api.client.get("/ready").json() == {"status": "ready"}


def test_a_key_over_its_rate_gets_429(books: Any) -> None:
    secret = books.issue_api_key(role="auditor", label="busy").secret
    app = create_app(ApiSettings(rate_per_minute=3), deployment=books)
    with TestClient(app) as client:
        statuses = [client.get("/v1/filing", headers={"X-API-Key": secret}).status_code
                    for _ in range(5)]
        limited = client.get("/v1/filing", headers={"X-API-Key": secret})
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert _error(limited)["code"] == "rate.limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert books.audit_events("refusal")[-1].outcome == "rate.limited"


def test_review_confirm_then_act(api: Api, faces: dict[str, Path]) -> None:
    admin, op = api.headers("admin"), api.headers("operator")
    assert api.client.put(f"/v1/purposes/{P}/review", json={"window_minutes": 30},
                          headers=admin).status_code == 200
    reviewer_id = next(k.id for k in api.deployment.api_keys() if k.label == "test reviewer")
    assert api.client.post(f"/v1/purposes/{P}/reviewers", json={"reviewer_key": reviewer_id},
                           headers=admin).status_code == 201
    auditor_id = next(k.id for k in api.deployment.api_keys() if k.label == "test auditor")
    not_a_reviewer = api.client.post(f"/v1/purposes/{P}/reviewers",
                                     json={"reviewer_key": auditor_id}, headers=admin)
    assert not_a_reviewer.status_code == 404
    assert _error(not_a_reviewer)["code"] == "registry.not_found"
    sid, _ = _subject_with_consent(api)
    api.client.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                        "image": _b64(faces["obama"])}, headers=op)
    hit = api.client.post("/v1/identify", json={"purpose": P, "image": _b64(faces["obama2"])},
                          headers=op).json()
    case = hit["faces"][0]["candidates"][0]["review_case"]
    assert case
    early = api.client.post(f"/v1/review/cases/{case}/act", json={"action": "open-door"},
                            headers=op)
    assert early.status_code == 409
    assert (_error(early)["code"], _error(early)["rule"]) == ("review.not_confirmed", "R19")
    listed = api.client.get("/v1/review/cases", params={"status": "pending"},
                            headers=api.headers("reviewer")).json()["cases"]
    assert [c["id"] for c in listed] == [case]
    unauthorised = api.client.post(f"/v1/review/cases/{case}/confirm", json={"reason": "same"},
                                   headers=api.headers("reviewer2"))
    assert unauthorised.status_code == 403
    confirmed = api.client.post(f"/v1/review/cases/{case}/confirm",
                                json={"reason": "same person"}, headers=api.headers("reviewer"))
    assert confirmed.json()["case"]["status"] == "confirmed"
    acted = api.client.post(f"/v1/review/cases/{case}/act", json={"action": "open-door"},
                            headers=op)
    assert acted.status_code == 200


def test_liveness_through_the_api(api: Api, faces: dict[str, Path]) -> None:
    op = api.headers("operator")
    challenge = api.client.post("/v1/liveness/challenges", json={"purpose": P}, headers=op)
    assert challenge.status_code == 201
    c = challenge.json()
    frames = [{"at": i * 0.2, "image": _b64(faces["lennon1"])} for i in range(8)]
    answer = api.client.post(f"/v1/liveness/challenges/{c['challenge']}/answer",
                             json={"nonce": c["nonce"], "frames": frames}, headers=op)
    assert answer.status_code == 403
    assert _error(answer)["code"] == "liveness.failed"
    assert _error(answer)["details"]["reasons"]
    replay = api.client.post(f"/v1/liveness/challenges/{c['challenge']}/answer",
                             json={"nonce": c["nonce"], "frames": frames}, headers=op)
    assert replay.status_code == 409 and _error(replay)["code"] == "liveness.challenge_used"


def test_a_liveness_answer_as_a_video_file(api: Api, shared: Path, tmp_path: Path) -> None:
    pytest.importorskip("av", reason="video answers need PyAV (the video extra)")
    from facegate.liveness.video import VideoLimits, read_video

    from ..support.video import write_video

    replay = shared / "samples/liveness/liveness_detection_opencv/videos/fake2.webm"
    first = read_video(replay, fps=10, limits=VideoLimits(max_frames=1000))[:30]
    pixels = [f.image.pixels[: f.image.pixels.shape[0] // 2 * 2,
                             : f.image.pixels.shape[1] // 2 * 2] for f in first]
    video = write_video(tmp_path / "answer.webm", pixels, fps=10)  # a 3 s replay attack
    op = api.headers("operator")
    c = api.client.post("/v1/liveness/challenges", json={"purpose": P}, headers=op).json()
    roomy = create_app(ApiSettings(), deployment=api.deployment)  # 16 MiB bodies
    with video.open("rb") as handle, TestClient(roomy) as client:
        answer = client.post(f"/v1/liveness/challenges/{c['challenge']}/answer",
                             data={"nonce": c["nonce"]},
                             files={"video": ("answer.webm", handle, "video/webm")},
                             headers=op)
    assert answer.status_code == 403, answer.text
    error = _error(answer)
    assert error["code"] == "liveness.failed" and error["details"]["reasons"]
    checks = api.deployment.audit_events("liveness-check")
    assert checks[-1].outcome == "failed"
    both = api.client.post(f"/v1/liveness/challenges/{c['challenge']}/answer",
                           json={"frames": [], "nonce": c["nonce"]}, headers=op)
    assert both.status_code == 422 and _error(both)["code"] == "request.invalid"


def test_the_documents_for_auditors(api: Api) -> None:
    auditor = api.headers("auditor")
    pdf = api.client.get("/v1/reports/pia", params={"purpose": P, "lang": "en"},
                         headers=auditor)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["x-facegate-sha256"] == hashlib.sha256(pdf.content).hexdigest()
    html = api.client.get("/v1/reports/notice", params={"purpose": P, "format": "html"},
                          headers=auditor)
    assert html.headers["content-type"].startswith("text/html")
    assert "style-src 'unsafe-inline'" in html.headers["content-security-policy"]
    recorded = api.deployment.audit_events("report-generated")
    assert [e.detail["kind"] for e in recorded] == ["pia", "notice"]
    assert recorded[-1].operator.startswith("key:")
    assert int(html.headers["x-facegate-recorded-seq"]) == recorded[-1].seq
    for role in ("operator", "reviewer", "subject"):
        assert api.client.get("/v1/reports/filing", headers=api.headers(role)
                              ).status_code == 403
    missing = api.client.get("/v1/reports/pia", headers=auditor)
    assert missing.status_code == 400 and _error(missing)["code"] == "argument.invalid"
    bipa_only = api.client.get("/v1/reports/retention-policy", headers=auditor)
    assert bipa_only.status_code == 409 and _error(bipa_only)["code"] == "report.not_applicable"


def test_the_public_notice_is_plain_json(api: Api) -> None:
    r = api.client.get(f"/v1/purposes/{P}/notice")
    assert r.status_code == 200
    notice = r.json()["notice"]
    assert notice["version"] == 1
    content = notice["content"]
    assert isinstance(content, dict) and set(content["accessibility"]) == {"zh", "en"}
    assert [a["key"] for a in r.json()["alternatives"]] == ["staff badge with guard check"]
    # the notice as people read it: generated from the purpose's records, in each language
    said = r.json()["text"]
    assert "365 天" in " ".join(said["zh"]["retention_period"])
    assert "365 days" in " ".join(said["en"]["retention_period"])
    assert "员工卡加保安核验" in " ".join(said["zh"]["alternatives"])


def test_the_audit_log_pages(api: Api) -> None:
    auditor = api.headers("auditor")
    total = api.client.get("/v1/audit/verify", headers=auditor).json()["entries"]
    first = api.client.get("/v1/audit/events", params={"limit": 5}, headers=auditor).json()
    assert [e["seq"] for e in first["events"]] == [1, 2, 3, 4, 5]
    assert first["next_after"] == 5
    rest = api.client.get("/v1/audit/events", params={"after": 5, "limit": 1000},
                          headers=auditor).json()
    assert [e["seq"] for e in rest["events"]] == list(range(6, total + 1))
    assert rest["next_after"] is None
    keys = api.client.get("/v1/audit/events", params={"name": "api-key-issued"},
                          headers=auditor).json()["events"]
    assert keys and {e["name"] for e in keys} == {"api-key-issued"}
