"""Odd input never gets a 5xx, and requests mean what they say.

Found: an empty ``external_ref`` sent twice failed on the unique constraint, JSON
nested 100k deep raised RecursionError, ``after`` past 64 bits overflowed SQLite, a
500 wrote no request-log line, the dashboard's 500 page was JSON, malformed JSON or
multipart got 400 where docs/errors.md says 422, lax coercion read ``true`` as notice
version 1 and ``0`` as a birth date and dropped unknown fields, site keys took NUL,
CRLF and direction overrides, a subject's token recorded withdrawals of consents it
never gave, and a revoked key got a different message from an unknown one.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment
from facegate.errors import AlreadyRegistered, InvalidArgument

from ..support.staff import add_staff
from ..support.words import both
from .conftest import Api

P, Q = "access.office.entry", "hr.attendance"
TINY = "aGVsbG8="


def _error(r: Any) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


def test_an_empty_external_reference_is_refused_not_a_server_error(api: Api) -> None:
    op = api.headers("operator")
    for _ in range(2):
        r = api.client.post("/v1/subjects", json={"external_ref": ""}, headers=op)
        assert r.status_code == 422 and _error(r)["code"] == "request.invalid"
    d = api.deployment
    d.register_subject(external_ref="", age_band="adult")
    with pytest.raises(AlreadyRegistered):  # the library: a conflict, never the constraint
        d.register_subject(external_ref="", age_band="adult")


def test_json_nested_too_deep_is_request_invalid(api: Api) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/v1/subjects", "/v1/verify"):
        r = api.client.post(path, content=deep, headers={
            **api.headers("operator"), "content-type": "application/json"})
        assert r.status_code == 422 and _error(r)["code"] == "request.invalid", path


def test_malformed_json_and_multipart_are_request_invalid_422(api: Api) -> None:
    op = api.headers("operator")
    r = api.client.post("/v1/subjects", content=b'{"age_band": ', headers={
        **op, "content-type": "application/json"})
    assert r.status_code == 422 and _error(r)["code"] == "request.invalid"
    r = api.client.post("/v1/verify", content=b"--x\r\nnot a part", headers={
        **op, "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 422 and _error(r)["code"] == "request.invalid"
    r = api.client.post("/v1/verify", content=b"{", headers={
        **op, "content-type": "application/json"})
    assert r.status_code == 422 and _error(r)["code"] == "request.invalid"


def test_sequence_numbers_past_64_bits_are_request_invalid(api: Api) -> None:
    r = api.client.get("/v1/audit/events?after=9223372036854775808",
                       headers=api.headers("auditor"))
    assert r.status_code == 422 and _error(r)["code"] == "request.invalid"
    assert api.client.get("/v1/audit/events?after=9223372036854775807",
                          headers=api.headers("auditor")).status_code == 200


def test_strict_bodies_neither_coerce_nor_drop_fields(api: Api, faces: dict[str, Any]) -> None:
    op = api.headers("operator")
    subject = api.client.post("/v1/subjects", json={}, headers=op).json()["subject"]["id"]
    for body in ({"subject": subject, "purpose": P, "notice_version": True},
                 {"subject": subject, "purpose": P, "notice_version": "1"},
                 {"subject": subject, "purpose": P, "notice_version": 1, "extra": 1}):
        r = api.client.post("/v1/consents", json=body, headers=op)
        assert r.status_code == 422 and _error(r)["code"] == "request.invalid", body
    for body in ({"birth_date": 0}, {"age": "adult"}, {"age_band": "adult", "x": None}):
        r = api.client.post("/v1/subjects", json=body, headers=op)
        assert r.status_code == 422 and _error(r)["code"] == "request.invalid", body
    assert api.client.post("/v1/subjects", json={"birth_date": "2000-01-31"},
                           headers=op).status_code == 201
    r = api.client.post("/v1/verify", json={"subject": subject, "purpose": P, "image": TINY,
                                            "liveness": None, "threshold": 2}, headers=op)
    assert r.status_code == 422 and _error(r)["code"] == "request.invalid"
    # A form is text: multipart fields still read as the values they spell.
    r = api.client.post("/v1/enroll", data={"subject": subject, "purpose": P,
                                            "retain_image": "true"},
                        files={"image": ("x.jpg", b"not an image", "image/jpeg")}, headers=op)
    assert _error(r)["code"] != "request.invalid"


def test_site_keys_are_plain_dotted_words(api: Api) -> None:
    admin = api.headers("admin")
    for key in ("hq\x00lobby", "hq.lobby\r\nx", "hq.\u202eybbol", "HQ", "hq..lobby",
                "a" * 101):
        r = api.client.post("/v1/sites", json={"key": key, "name": "x",
                                               "site_type": "office"}, headers=admin)
        assert r.status_code in (400, 422), key
    with pytest.raises(InvalidArgument):
        api.deployment.register_site(key="hq.lobby\n", name=both("x"), site_type="office")
    assert api.client.post("/v1/sites", json={"key": "branch-2.gate", "name": "Gate",
                                              "site_type": "office"},
                           headers=admin).status_code == 201


def test_a_text_is_words_per_language_or_one_string(api: Api) -> None:
    admin = api.headers("admin")
    made = api.client.post("/v1/sites", json={
        "key": "branch-3.gate", "name": {"zh": "三号门", "en": "Gate three"},
        "site_type": "office"}, headers=admin)
    assert made.status_code == 201 and made.json()["site"]["name"] == {"zh": "三号门",
                                                                      "en": "Gate three"}
    one = api.client.post("/v1/sites", json={"key": "branch-4.gate", "name": "四号门",
                                             "site_type": "office"}, headers=admin)
    assert one.status_code == 201 and one.json()["site"]["name"] == {"zh": "四号门"}
    for name in ({"zh": "门", "en\u202e": "gate"}, {"zh": 3}, {str(i): "x" for i in range(9)},
                 {"zh": "x" * 4001}, ["zh", "门"], "\u202egate"):
        r = api.client.post("/v1/sites", json={"key": "branch-5.gate", "name": name,
                                               "site_type": "office"}, headers=admin)
        assert r.status_code in (400, 422), name


def test_r4_a_subject_token_withdraws_only_a_consent_it_gave(api: Api) -> None:
    op = api.headers("operator")
    subject = api.client.post("/v1/subjects", json={"age_band": "adult"},
                              headers=op).json()["subject"]["id"]
    token = api.client.post("/v1/consents", json={"subject": subject, "purpose": P,
                                                  "notice_version": 1},
                            headers=op).json()["subject_token"]
    mine = {"X-API-Key": token}
    before = len(api.deployment.consents(subject))
    r = api.client.post("/v1/me/withdrawals", json={"purpose": Q}, headers=mine)
    assert r.status_code == 404 and _error(r)["code"] == "consent.not_found"
    assert len(api.deployment.consents(subject)) == before
    r = api.client.post("/v1/me/withdrawals", json={"purpose": P}, headers=mine)
    assert r.status_code == 200


def test_r16_a_revoked_key_and_an_unknown_key_get_one_answer(api: Api) -> None:
    revoked = api.client.get("/v1/processor", headers={"X-API-Key": api.keys["revoked"]})
    unknown = api.client.get("/v1/processor", headers={"X-API-Key": "fg_never-issued"})
    assert revoked.status_code == unknown.status_code == 401
    a, b = _error(revoked), _error(unknown)
    assert (a["code"], a["message"], a["details"]) == (b["code"], b["message"], b["details"])


def _broken_app(d: Deployment) -> TestClient:
    return TestClient(create_app(ApiSettings(anonymous_rate_per_minute=100_000),
                                 deployment=d), raise_server_exceptions=False,
                      follow_redirects=False)


def test_a_server_error_still_writes_its_log_line_and_the_web_gets_a_page(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    client = _broken_app(api.deployment)
    login = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf is not None
    admin = add_staff(api.deployment, "li", "admin")
    assert client.post("/login", data={**admin.form(),
                                       "csrf": csrf.group(1)}).status_code == 303
    api.deployment.close()  # every thread's connection: calls now fail inside the driver
    with caplog.at_level(logging.INFO, logger="facegate.api"):
        r = client.get("/v1/processor", headers=api.headers("admin"))
        page = client.get("/dashboard")
    assert r.status_code == 500 and _error(r)["code"] == "storage.error"  # the store is shut
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "Traceback" not in page.text
    lines = [json.loads(rec.getMessage()) for rec in caplog.records
             if rec.getMessage().startswith("{")]
    assert {(e["route"], e["status"]) for e in lines
            if e["event"] == "request"} >= {("/v1/processor", 500),
                                                          ("/dashboard", 500)}


def test_r15_a_malformed_log_is_reported_over_http_not_a_crash(api: Api) -> None:
    """Found: a field retyped to a blob, bytes that are not UTF-8, a checkpoint seq of -1
    or a head that is not hex gave a traceback; /v1/audit/verify answered a bare 500 and
    the dashboard's pages failed."""
    conn = api.deployment.connection
    assert isinstance(conn, sqlite3.Connection)
    web = TestClient(api.client.app, follow_redirects=False)  # type: ignore[arg-type]
    login = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf is not None
    auditor = add_staff(api.deployment, "zhao", "auditor")
    assert web.post("/login", data={**auditor.form(),
                                    "csrf": csrf.group(1)}).status_code == 303
    last = len(api.deployment.audit_events())  # the staff sign-in is an entry too
    for tamper, seq in (("UPDATE audit_events SET detail = CAST(detail AS BLOB) WHERE seq = 3",
                         3),
                        ("UPDATE audit_events SET name = CAST(X'80ff' AS TEXT) WHERE seq = 4",
                         4),
                        ("UPDATE audit_checkpoint SET seq = -1", last),
                        ("UPDATE audit_checkpoint SET head = 'not hex'", last)):
        kept = sqlite3.connect(":memory:")
        conn.backup(kept)  # the store as it was, put back after each tampering
        conn.execute(tamper)  # committed: the service's threads read their own connections
        try:
            r = api.client.get("/v1/audit/verify", headers=api.headers("auditor"))
            error = _error(r)
            assert (r.status_code, error["code"], error["details"]["seq"]) == (
                500, "audit.chain_broken", seq), tamper
            listed = api.client.get("/v1/audit/events?limit=1000",
                                    headers=api.headers("auditor"))
            assert listed.status_code == 200, (tamper, listed.text)
            for page in ("/dashboard/audit", "/dashboard"):  # the pages show the break
                shown = web.get(page)
                assert shown.status_code == 200 and 'chip bad">Broken' in shown.text, (
                    page, tamper)
        finally:
            kept.backup(conn)
            kept.close()
