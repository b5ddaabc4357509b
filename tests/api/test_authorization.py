"""The authorization matrix: every endpoint under every role, no key, a bad key, a
revoked key and out-of-scope keys gets the expected status, and every refusal is
in the audit log."""

from __future__ import annotations

from typing import Any

from .conftest import Api

P = "access.office.entry"
STAFF = {"admin", "operator", "reviewer", "auditor"}
TINY = "aGVsbG8="  # base64 of "hello": not an image, refused after authorisation

#: (method, path template) -> (filled path, JSON body, roles allowed, scoped to purpose P)
MATRIX: dict[tuple[str, str], tuple[str, Any, set[str], bool]] = {
    ("PUT", "/v1/processor"): ("/v1/processor", {"name": "X", "contact": "x",
                                                  "credit_code": "1"}, {"admin"}, False),
    ("GET", "/v1/processor"): ("/v1/processor", None, STAFF, False),
    ("POST", "/v1/sites"): ("/v1/sites", {"key": "toilet.1", "name": "WC",
                                          "site_type": "toilet"}, {"admin"}, False),
    ("GET", "/v1/sites"): ("/v1/sites", None, STAFF, False),
    ("POST", "/v1/purposes"): ("/v1/purposes", {
        "key": "no.modes", "site": "hq.lobby", "description": "d", "necessity": "n",
        "legal_basis": "consent", "modes": ["verify"], "retention_days": 99999},
        {"admin"}, False),
    ("GET", "/v1/purposes"): ("/v1/purposes", None, STAFF, False),
    ("GET", "/v1/purposes/{purpose}"): (f"/v1/purposes/{P}", None, STAFF, True),
    ("POST", "/v1/purposes/{purpose}/notice"): ("/v1/purposes/no.such/notice",
                                                {"content": {}}, {"admin"}, False),
    ("GET", "/v1/purposes/{purpose}/notice"): (f"/v1/purposes/{P}/notice", None, set(), False),
    ("POST", "/v1/purposes/{purpose}/assessments"): (
        "/v1/purposes/no.such/assessments", {"content": {}, "signed_by": "DPO"}, {"admin"},
        False),
    ("POST", "/v1/purposes/{purpose}/activate"): ("/v1/purposes/no.such/activate", None,
                                                  {"admin"}, False),
    ("POST", "/v1/purposes/{purpose}/suspend"): ("/v1/purposes/no.such/suspend", None,
                                                 {"admin"}, False),
    ("PUT", "/v1/purposes/{purpose}/review"): ("/v1/purposes/no.such/review",
                                               {"window_minutes": 5}, {"admin"}, False),
    ("POST", "/v1/purposes/{purpose}/reviewers"): ("/v1/purposes/no.such/reviewers",
                                                   {"reviewer_key": "k_none"}, {"admin"}, False),
    ("POST", "/v1/keys"): ("/v1/keys", {"role": "auditor", "label": "x"}, {"admin"}, False),
    ("GET", "/v1/keys"): ("/v1/keys", None, {"admin"}, False),
    ("DELETE", "/v1/keys/{key_id}"): ("/v1/keys/k_none", None, {"admin"}, False),
    ("POST", "/v1/staff"): ("/v1/staff", {"name": "x", "display_name": "X", "role": "auditor",
                                          "password": "twelve chars long"}, {"admin"}, False),
    ("GET", "/v1/staff"): ("/v1/staff", None, {"admin"}, False),
    ("GET", "/v1/staff/{name}"): ("/v1/staff/nobody", None, {"admin"}, False),
    ("POST", "/v1/staff/{name}/disable"): ("/v1/staff/nobody/disable", None, {"admin"}, False),
    ("POST", "/v1/staff/{name}/enable"): ("/v1/staff/nobody/enable", None, {"admin"}, False),
    ("POST", "/v1/subjects"): ("/v1/subjects", {}, {"operator"}, False),
    ("POST", "/v1/consents"): ("/v1/consents", {"subject": "s_none", "purpose": P,
                                                "notice_version": 1}, {"operator"}, True),
    ("POST", "/v1/withdrawals"): ("/v1/withdrawals", {"subject": "s_none", "purpose": P},
                                  {"operator", "admin"}, True),
    ("POST", "/v1/declines"): ("/v1/declines", {"purpose": P}, {"operator"}, True),
    ("POST", "/v1/alternatives"): ("/v1/alternatives", {
        "purpose": P, "method": "staff badge with guard check", "result": "verified"},
        {"operator"}, True),
    ("GET", "/v1/subjects/{subject}/access-report"): ("/v1/subjects/s_none/access-report",
                                                      None, {"admin", "auditor"}, False),
    ("DELETE", "/v1/subjects/{subject}"): ("/v1/subjects/s_none", None, {"admin"}, False),
    ("GET", "/v1/me"): ("/v1/me", None, {"subject"}, False),
    ("POST", "/v1/me/withdrawals"): ("/v1/me/withdrawals", {"purpose": P}, {"subject"}, False),
    ("DELETE", "/v1/me"): ("/v1/me", None, {"subject"}, False),
    ("POST", "/v1/enroll"): ("/v1/enroll", {"subject": "s_none", "purpose": P, "image": TINY},
                             {"operator"}, True),
    ("POST", "/v1/verify"): ("/v1/verify", {"subject": "s_none", "purpose": P, "image": TINY},
                             {"operator"}, True),
    ("POST", "/v1/identify"): ("/v1/identify", {"purpose": P, "image": TINY}, {"operator"},
                               True),
    ("POST", "/v1/liveness/challenges"): ("/v1/liveness/challenges", {"purpose": P},
                                          {"operator"}, True),
    ("POST", "/v1/liveness/challenges/{challenge}/answer"): (
        "/v1/liveness/challenges/lc_none/answer", {"frames": []}, {"operator"}, False),
    ("GET", "/v1/review/cases"): ("/v1/review/cases", None, {"reviewer"}, False),
    ("GET", "/v1/review/cases/{case_id}"): ("/v1/review/cases/rc_none", None, {"reviewer"},
                                            False),
    ("GET", "/v1/review/cases/{case_id}/probe"): ("/v1/review/cases/rc_none/probe", None,
                                                  {"reviewer"}, False),
    ("GET", "/v1/review/cases/{case_id}/reference"): ("/v1/review/cases/rc_none/reference",
                                                      None, {"reviewer"}, False),
    ("POST", "/v1/review/cases/{case_id}/confirm"): ("/v1/review/cases/rc_none/confirm",
                                                     {"reason": "same"}, {"reviewer"}, False),
    ("POST", "/v1/review/cases/{case_id}/reject"): ("/v1/review/cases/rc_none/reject",
                                                    {"reason": "other"}, {"reviewer"}, False),
    ("POST", "/v1/review/cases/{case_id}/act"): ("/v1/review/cases/rc_none/act",
                                                 {"action": "open-door"}, {"operator"}, False),
    ("GET", "/v1/audit/verify"): ("/v1/audit/verify", None, {"admin", "auditor"}, False),
    ("GET", "/v1/audit/events"): ("/v1/audit/events", None, {"admin", "auditor"}, False),
    ("GET", "/v1/filing"): ("/v1/filing", None, {"admin", "auditor"}, False),
    ("GET", "/v1/reports/{kind}"): ("/v1/reports/filing?format=html", None,
                                    {"admin", "auditor"}, False),
    ("GET", "/v1/subjects"): ("/v1/subjects", None, {"admin", "auditor"}, False),
    ("POST", "/v1/webhooks"): ("/v1/webhooks", {"url": "http://127.0.0.1:9/hook",
                                                "audience": "door", "label": "door"},
                               {"admin"}, False),
    ("GET", "/v1/webhooks"): ("/v1/webhooks", None, {"admin"}, False),
    ("DELETE", "/v1/webhooks/{webhook_id}"): ("/v1/webhooks/wh_none", None, {"admin"}, False),
    ("POST", "/v1/cameras"): ("/v1/cameras", {"id": "hq.door-9", "site": "hq.lobby",
                                              "purposes": [P]}, {"admin"}, False),
    ("GET", "/v1/cameras"): ("/v1/cameras", None, STAFF, False),
    ("GET", "/v1/cameras/{camera}"): ("/v1/cameras/no.such", None, STAFF, False),
    ("POST", "/v1/cameras/{camera}/start"): ("/v1/cameras/no.such/start", None, {"operator"},
                                             False),
    ("POST", "/v1/cameras/{camera}/stop"): ("/v1/cameras/no.such/stop", None, {"operator"},
                                            False),
    ("POST", "/v1/cameras/{camera}/claims"): ("/v1/cameras/no.such/claims",
                                              {"subject": "card-1"}, {"operator"}, False),
    ("GET", "/v1/events"): ("/v1/events", None, STAFF, False),
    ("GET", "/v1/events/stream"): ("/v1/events/stream?seconds=1", None, STAFF, False),
    ("GET", "/health"): ("/health", None, set(), False),
    ("GET", "/ready"): ("/ready", None, set(), False),
}
PUBLIC = {("GET", "/v1/purposes/{purpose}/notice"), ("GET", "/health"), ("GET", "/ready")}
ROLES = ("admin", "operator", "reviewer", "auditor", "subject")


def _routes(api: Api) -> set[tuple[str, str]]:
    """Every operation of the service's OpenAPI document."""
    paths = api.client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def _call(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> int:
    return api.client.request(method, path, json=body, headers=headers).status_code


def test_the_matrix_covers_every_endpoint(api: Api) -> None:
    assert _routes(api) == set(MATRIX)


def test_every_endpoint_under_every_role(api: Api) -> None:
    wrong = []
    for (method, template), (path, body, allowed, _) in MATRIX.items():
        for role in ROLES:
            status = _call(api, method, path, body, api.headers(role))
            if template in {t for _, t in PUBLIC} and (method, template) in PUBLIC:
                ok = status not in (401, 403)
            elif role in allowed:
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == 403
            if not ok:
                wrong.append((method, template, role, status))
    assert wrong == []


def test_no_key_a_bad_key_and_a_revoked_key_get_401(api: Api) -> None:
    wrong = []
    for (method, template), (path, body, _, _) in MATRIX.items():
        if (method, template) in PUBLIC:
            continue
        for headers in ({}, {"X-API-Key": "fg_not-a-key"}, {"X-API-Key": api.keys["revoked"]},
                        {"Authorization": "Bearer fg_wrong"}):
            status = _call(api, method, path, body, headers)
            if status != 401:
                wrong.append((method, template, headers, status))
    assert wrong == []


def test_out_of_scope_keys_get_403_on_purpose_scoped_endpoints(api: Api) -> None:
    wrong = []
    for (method, template), (path, body, _, scoped) in MATRIX.items():
        if not scoped:
            continue
        for who in ("operator_out_of_scope", "operator_wrong_site"):
            response = api.client.request(method, path, json=body, headers=api.headers(who))
            if (response.status_code != 403
                    or response.json()["error"]["code"] != "auth.forbidden"):
                wrong.append((method, template, who, response.status_code))
    assert wrong == []


def test_the_bearer_header_works_like_x_api_key(api: Api) -> None:
    r = api.client.get("/v1/audit/verify",
                       headers={"Authorization": f"Bearer {api.keys['auditor']}"})
    assert r.status_code == 200 and r.json()["intact"] is True


def test_every_refusal_is_audited(api: Api) -> None:
    before = len(api.deployment.audit_events("refusal"))
    api.client.get("/v1/audit/events")
    api.client.get("/v1/audit/events", headers={"X-API-Key": "fg_nope"})
    api.client.post("/v1/enroll", json={"subject": "s", "purpose": P, "image": TINY},
                    headers=api.headers("auditor"))
    api.client.post("/v1/declines", json={"purpose": P},
                    headers=api.headers("operator_out_of_scope"))
    refusals = api.deployment.audit_events("refusal")[before:]
    assert [e.outcome for e in refusals] == ["auth.missing", "auth.invalid", "auth.forbidden",
                                             "auth.forbidden"]
    assert refusals[2].detail["action"] == "biometric"
    assert refusals[3].purpose_key == P
    assert api.deployment.verify_audit().entries > 0


def test_an_auditor_reaches_no_biometric_operation(api: Api) -> None:
    for path in ("/v1/enroll", "/v1/verify", "/v1/identify"):
        r = api.client.post(path, json={"subject": "s", "purpose": P, "image": TINY},
                            headers=api.headers("auditor"))
        assert r.status_code == 403, path
        assert r.json()["error"]["message"] == (
            "an auditor key may not enroll, verify or identify faces"), r.json()
    assert not [e for e in api.deployment.audit_events()
                if e.name in ("enroll", "verify", "identify")]
