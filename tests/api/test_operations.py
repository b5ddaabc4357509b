"""What operators and integrators read: /metrics (nothing personal in it), the event feed
and its stream by role and scope, cursor pages, subjects by reference, the offline /docs,
and the published OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.api.docs import SWAGGER_ASSETS
from facegate.deployment import Deployment
from facegate.web.pages import PAGE_CSP

from .conftest import Api

P = "access.office.entry"
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _subject(api: Api, ref: str | None = None) -> str:
    body = {"age_band": "adult", **({"external_ref": ref} if ref else {})}
    r = api.client.post("/v1/subjects", json=body, headers=api.headers("operator"))
    assert r.status_code == 201
    sid: str = r.json()["subject"]["id"]
    return sid


def test_metrics_hold_no_subject_id_key_or_secret(api: Api, faces: dict[str, Path]) -> None:
    sid = _subject(api, ref="EMP-7")
    op = api.headers("operator")
    assert api.client.post("/v1/consents", json={"subject": sid, "purpose": P,
                                                 "notice_version": 1},
                           headers=op).status_code == 201
    with faces["obama"].open("rb") as image:
        assert api.client.post("/v1/enroll", data={"subject": sid, "purpose": P},
                               files={"image": image}, headers=op).status_code == 201
    with faces["obama2"].open("rb") as image:
        assert api.client.post("/v1/verify", data={"subject": sid, "purpose": P},
                               files={"image": image}, headers=op).status_code == 200
    with faces["obama2"].open("rb") as image:
        assert api.client.post("/v1/identify", data={"purpose": P},
                               files={"image": image}, headers=op).status_code == 200
    api.client.get(f"/v1/subjects/{sid}/access-report", headers=api.headers("admin"))
    text = api.client.get("/metrics").text
    for name in ("facegate_requests_total", "facegate_request_seconds_bucket",
                 "facegate_stage_seconds_bucket", "facegate_pool_depth",
                 "facegate_gallery_templates", "facegate_audit_head",
                 "facegate_webhook_outbox"):
        assert name in text, name
    assert 'pack="dlib-resnet-v1",stage="inference"' in text
    assert 'route="/v1/subjects/{subject}/access-report"' in text
    keys = [k.id for k in api.deployment.api_keys()]
    assert sid not in text and "EMP-7" not in text
    assert not [k for k in keys if k in text]
    assert not [s for s in api.keys.values() if s in text]
    assert not re.search(r"s_[0-9a-f]{16}", text)
    head = re.search(r"^facegate_audit_head ([0-9.e+]+)$", text, re.M)
    assert head is not None and float(head.group(1)) == api.deployment.audit_head()


def test_the_event_feed_by_role_and_scope(api: Api) -> None:
    op = api.headers("operator")
    sids = [_subject(api) for _ in range(3)]
    for sid in sids:
        api.client.post("/v1/consents", json={"subject": sid, "purpose": P,
                                              "notice_version": 1}, headers=op)
        api.client.post("/v1/withdrawals", json={"subject": sid, "purpose": P}, headers=op)
    mine = api.client.get("/v1/events", headers=op, params={"limit": 2}).json()
    assert [e["type"] for e in mine["events"]] == ["consent.withdrawn"] * 2
    assert [e["data"]["subject"] for e in mine["events"]] == sids[:2]
    rest = api.client.get("/v1/events", headers=op,
                          params={"after": mine["next_after"]}).json()
    assert [e["data"]["subject"] for e in rest["events"]] == sids[2:]
    assert rest["next_after"] is None
    scoped = api.headers("operator_out_of_scope")  # hr.attendance only
    assert api.client.get("/v1/events", headers=scoped).json()["events"] == []
    audit = api.client.get("/v1/events", headers=api.headers("auditor"),
                           params={"limit": 500}).json()["events"]
    assert {"audit.subject-registered", "consent.withdrawn"} <= {e["type"] for e in audit}
    assert api.client.get("/v1/events", headers=api.headers("subject")).status_code == 403
    stream = api.client.get("/v1/events/stream", headers=op,
                            params={"after": 0, "seconds": 1})
    assert stream.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in stream.text.split("\n\n") if f.startswith("id:")]
    assert len(frames) == 3
    first = dict(line.split(": ", 1) for line in frames[0].splitlines())
    assert first["event"] == "consent.withdrawn"
    assert json.loads(first["data"])["data"]["subject"] == sids[0]


def test_cursor_pages_since_and_lookup_by_reference(api: Api) -> None:
    ref = _subject(api, ref="EMP-42")
    others = [_subject(api) for _ in range(4)]
    admin = api.headers("admin")
    found = api.client.get("/v1/subjects", headers=admin,
                           params={"external_ref": "EMP-42"}).json()
    assert [s["id"] for s in found["subjects"]] == [ref] and found["next_cursor"] is None
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/v1/subjects", headers=admin, params=params).json()
        seen += [s["id"] for s in page["subjects"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) >= {ref, *others} and len(seen) == len(set(seen))
    assert api.client.get("/v1/subjects", headers=admin,
                          params={"cursor": "not-a-cursor"}).status_code == 422
    assert api.client.get("/v1/subjects", headers=admin,
                          params={"since": "2999-01-01T00:00:00Z"}).json()["subjects"] == []
    keys = api.client.get("/v1/keys", headers=admin, params={"limit": 3}).json()
    assert len(keys["keys"]) == 3 and keys["next_cursor"]
    more = api.client.get("/v1/keys", headers=admin,
                          params={"cursor": keys["next_cursor"]}).json()["keys"]
    assert not {k["id"] for k in keys["keys"]} & {k["id"] for k in more}
    cases = api.client.get("/v1/review/cases", headers=api.headers("reviewer")).json()
    assert cases == {"cases": [], "next_cursor": None}
    entries = api.client.get("/v1/audit/events", headers=admin,
                             params={"since": "2999-01-01T00:00:00Z"}).json()
    assert entries == {"events": [], "next_after": None}
    assert api.client.get("/v1/subjects", headers=api.headers("operator")).status_code == 403
    listed = [e for e in api.deployment.audit_events("subjects-listed")]
    assert listed and listed[0].detail == {"count": 1, "by_external_ref": True}


def test_docs_are_served_offline_under_the_page_csp(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert "<script>" not in page.text and "http" not in page.text.replace("http-equiv", "")
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/docs/")
        assert api.client.get(src).status_code == 200, src
    assert set(SWAGGER_ASSETS) >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    assert api.client.get("/docs/assets/index.html").status_code == 404
    init = api.client.get("/docs/init.js").text
    assert '"/openapi.json"' in init and "https://" not in init


def test_every_json_success_has_a_typed_response_model(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    untyped = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if "application/json" in content and (not schema or "$ref" not in schema):
                    untyped.append((method, path, status))
                if not content:
                    untyped.append((method, path, status))
    assert untyped == []


def test_the_published_openapi_document_is_current(tmp_path: Path) -> None:
    """docs/openapi.json is the service's OpenAPI document: an API change shows in review.
    Regenerate with: python -c "import json; from facegate.api import create_app;
    print(json.dumps(create_app().openapi(), indent=1, sort_keys=True, ensure_ascii=False))"
    > docs/openapi.json"""
    app = create_app(ApiSettings(database=str(tmp_path / "unused.db")))
    current = json.dumps(app.openapi(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert OPENAPI.read_text(encoding="utf-8") == current


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    Deployment.open(tmp_path / "x.db", create=True).close()
    app = create_app(ApiSettings(database=str(tmp_path / "x.db"), metrics=False,
                                 background=False, report_workers=0))
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404
