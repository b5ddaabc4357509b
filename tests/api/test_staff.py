"""``/v1/staff``: an admin adds, lists, disables and enables named accounts; the TOTP
secret is in the answer that added the account only; a scoped admin stays within its
scope; a reviewer account is authorised for a purpose by name, and a review can bar the
purpose's own people."""

from __future__ import annotations

import time

import pyotp

from facegate.errors import CredentialInvalid

from .conftest import Api

P = "access.office.entry"
BODY = {"name": "wang", "display_name": "王芳 Wang Fang", "role": "reviewer",
        "password": "correct horse battery", "purposes": [P]}


def test_an_admin_adds_an_account_whose_secret_is_shown_once(api: Api) -> None:
    r = api.client.post("/v1/staff", json=BODY, headers=api.headers("admin"))
    assert r.status_code == 201, r.text
    added = r.json()
    account = added["account"]
    assert (account["principal"], account["role"], account["purposes"]) == (
        "staff:wang", "reviewer", [P])
    assert account["created_by"].startswith("key:") and account["disabled_at"] is None
    assert added["provisioning_uri"].startswith("otpauth://totp/")
    secret = added["totp_secret"]
    listed = api.client.get("/v1/staff", headers=api.headers("admin"))
    assert listed.status_code == 200 and secret not in listed.text
    assert "password" not in listed.text and [a["name"] for a in listed.json()["accounts"]] \
        == ["wang"]
    now = time.time()
    signed = api.deployment.sign_in_staff(name="wang", password=BODY["password"],
                                          code=pyotp.TOTP(secret).at(now), client="t", now=now)
    assert signed.principal == "staff:wang"
    again = api.client.post("/v1/staff", json=BODY, headers=api.headers("admin"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "registry.conflict"


def test_bodies_are_strict_and_passwords_long(api: Api) -> None:
    for body in ({**BODY, "password": "short"}, {**BODY, "role": "subject"},
                 {**BODY, "totp_secret": "JBSWY3DPEHPK3PXP"}, {**BODY, "name": "Wang Fang"}):
        r = api.client.post("/v1/staff", json=body, headers=api.headers("admin"))
        assert r.status_code in (400, 422), (body, r.status_code)
    assert api.deployment.staff_accounts() == []


def test_a_scoped_admin_adds_and_sees_only_accounts_within_its_scope(api: Api) -> None:
    scoped = api.deployment.issue_api_key(role="admin", label="door admin", purposes=[P])
    headers = {"X-API-Key": scoped.secret}
    wide = api.client.post("/v1/staff", json={**BODY, "purposes": None}, headers=headers)
    assert wide.status_code == 403 and wide.json()["error"]["code"] == "auth.forbidden"
    assert api.client.post("/v1/staff", json=BODY, headers=headers).status_code == 201
    api.client.post("/v1/staff", json={**BODY, "name": "boss", "role": "admin",
                                       "purposes": None}, headers=api.headers("admin"))
    assert [a["name"] for a in api.client.get("/v1/staff", headers=headers).json()[
        "accounts"]] == ["wang"]
    assert api.client.post("/v1/staff/boss/disable", headers=headers).status_code == 403


def test_disabling_refuses_sign_in_until_enabled(api: Api) -> None:
    secret = api.client.post("/v1/staff", json=BODY,
                             headers=api.headers("admin")).json()["totp_secret"]
    r = api.client.post("/v1/staff/wang/disable", headers=api.headers("admin"))
    assert r.status_code == 200 and r.json()["account"]["disabled_at"]
    now = time.time()
    try:
        api.deployment.sign_in_staff(name="wang", password=BODY["password"], client="t",
                                     code=pyotp.TOTP(secret).at(now), now=now)
    except CredentialInvalid:
        pass
    else:
        raise AssertionError("a disabled account signed in")
    r = api.client.post("/v1/staff/wang/enable", headers=api.headers("admin"))
    assert r.status_code == 200 and r.json()["account"]["disabled_at"] is None
    assert api.client.get("/v1/staff/nobody", headers=api.headers("admin")).status_code == 404


def test_a_reviewer_account_is_authorised_by_name_and_review_can_bar_own_people(
        api: Api) -> None:
    api.client.post("/v1/staff", json=BODY, headers=api.headers("admin"))
    admin = api.headers("admin")
    r = api.client.put(f"/v1/purposes/{P}/review", json={"window_minutes": 60,
                                                          "bar_own": True}, headers=admin)
    assert r.status_code == 200 and r.json()["review"]["bar_own"] is True
    r = api.client.post(f"/v1/purposes/{P}/reviewers", json={"reviewer_account": "wang"},
                        headers=admin)
    assert r.status_code == 201 and r.json()["reviewer"] == "staff:wang"
    both = api.client.post(f"/v1/purposes/{P}/reviewers",
                           json={"reviewer_account": "wang", "reviewer_key": "k_1"},
                           headers=admin)
    assert both.status_code == 400
    api.client.post("/v1/staff", json={**BODY, "name": "zhao", "role": "auditor"},
                    headers=admin)
    auditor = api.client.post(f"/v1/purposes/{P}/reviewers",
                              json={"reviewer_account": "zhao"}, headers=admin)
    assert auditor.status_code == 400 and "not an enabled reviewer" in auditor.text
