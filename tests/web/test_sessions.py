"""Sign-in, sessions, CSRF and roles of the web, through the application (no browser)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment
from facegate.web.sessions import VISIT_LIMIT, SessionStore

from ..support.governed import add_purpose
from ..support.staff import Staff
from .conftest import web_keys, web_staff

PURPOSE = "access.office.entry"


@dataclass
class Site:
    app: object
    deployment: Deployment
    keys: dict[str, str]
    staff: dict[str, Staff]

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url,  # type: ignore[arg-type]
                          follow_redirects=False)


@pytest.fixture
def site(books: Deployment) -> Iterator[Site]:
    keys = web_keys(books)
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=books)
    yield Site(app=app, deployment=books, keys=keys, staff=web_staff(books))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def credentials(who: Staff | str) -> dict[str, str]:
    """The sign-in form's fields: a staff account's, or a kiosk device's key."""
    return {"key": who} if isinstance(who, str) else who.form()


def sign_in(client: TestClient, who: Staff | str, next_path: str = "") -> str:
    page = client.get("/login")
    r = client.post("/login", data={**credentials(who), "csrf": csrf_of(page.text),
                                    "next": next_path})
    assert r.status_code == 303, r.text
    return csrf_of(client.get(r.headers["location"], follow_redirects=True).text)


def test_sign_in_sets_a_strict_http_only_cookie_and_rotates_the_session(site: Site) -> None:
    with site.client() as c:
        before = c.get("/login").cookies.get("facegate_session")
        page = c.get("/login")
        r = c.post("/login", data={**credentials(site.staff["admin"]),
                                   "csrf": csrf_of(page.text)})
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Secure" not in cookie
        assert c.cookies.get("facegate_session") not in (None, before)
    with site.client("https://testserver") as c:
        page = c.get("/login")
        r = c.post("/login", data={**credentials(site.staff["admin"]),
                                   "csrf": csrf_of(page.text)})
        assert "Secure" in r.headers["set-cookie"]


def test_every_post_needs_the_session_csrf_token(site: Site) -> None:
    with site.client() as c:
        assert c.post("/login", data={"key": site.keys["admin"], "csrf": "x"}).status_code == 403
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        events = len(site.deployment.audit_events())
        r = c.post("/kiosk/choice", data={"choice": "alternative", "csrf": "forged"})
        assert r.status_code == 403
        assert len(site.deployment.audit_events()) == events  # nothing was declined
        r = c.post("/kiosk/choice", data={"choice": "alternative", "csrf": token})
        assert r.status_code == 303


def test_bad_keys_and_personal_tokens_do_not_sign_in(site: Site) -> None:
    with site.client() as c:
        page = c.get("/login")
        r = c.post("/login", data={"key": "fg_nonsense", "csrf": csrf_of(page.text)})
        assert r.status_code == 401 and "not valid" in r.text
        assert site.deployment.audit_events("refusal")[-1].outcome == "auth.invalid"
        subject = site.deployment.register_subject(age_band="adult")
        own = site.deployment.issue_api_key(role="subject", label="own", subject=subject.id)
        r = c.post("/login", data={"key": own.secret, "csrf": csrf_of(page.text)})
        assert r.status_code == 403
        # Keys are for machines: only a kiosk's operator key signs a browser in.
        r = c.post("/login", data={"key": site.keys["admin"], "csrf": csrf_of(page.text)})
        assert r.status_code == 403 and "named account" in r.text
        assert site.deployment.audit_events("refusal")[-1].outcome == "auth.forbidden"


def test_pages_set_their_own_csp_and_the_api_keeps_its_strict_one(site: Site) -> None:
    with site.client() as c:
        page = c.get("/login")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert "<script>" not in page.text and " style=" not in page.text
        api = c.get(f"/v1/purposes/{PURPOSE}/notice")
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        assert c.get("/dashboard", follow_redirects=False).headers["location"] \
            == "/login?next=/dashboard"


def test_a_kiosk_browser_shows_only_the_kiosk(site: Site) -> None:
    with site.client() as c:
        sign_in(c, site.keys["kiosk"], "/kiosk")
        assert c.get("/dashboard").status_code == 403
        assert c.get("/kiosk").status_code == 200


def test_a_child_needs_a_named_guardian(site: Site) -> None:
    d = site.deployment
    with site.client() as c:
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        c.post("/kiosk/choice", data={"choice": "face", "csrf": token})
        count = len(d.subjects())
        r = c.post("/kiosk/consent", data={"age_band": "under_14", "csrf": token})
        assert r.status_code == 422 and "guardian" in r.text
        assert len(d.subjects()) == count
        r = c.post("/kiosk/consent", data={"age_band": "under_14", "guardian": "Li Na",
                                           "guardian_relation": "mother", "csrf": token})
        assert r.status_code == 303 and r.headers["location"] == "/kiosk/capture"
        child = d.subjects()[0]
        (event,) = d.consents(child.id)
        assert (event.given_by, event.guardian_name) == ("guardian", "Li Na")


def test_the_kiosk_shows_the_current_published_notice(site: Site) -> None:
    d = site.deployment
    notice = d.notice(PURPOSE)
    assert notice is not None
    content = {k: dict(v) for k, v in notice.content.items()}
    content["retention_period"] = {"zh": "一年后删除", "en": "deleted after one year"}
    d.publish_notice(purpose=PURPOSE, content=content)
    with site.client() as c:
        sign_in(c, site.keys["kiosk"], "/kiosk")
        page = c.get("/kiosk").text
        assert "一年后删除" in page and f"{notice.version + 1}" in page


def test_a_disabled_account_is_signed_out(site: Site) -> None:
    with site.client() as c:
        sign_in(c, site.staff["auditor"])
        assert c.get("/dashboard/audit", follow_redirects=False).status_code == 200
        site.deployment.disable_staff(site.staff["auditor"].name)
        r = c.get("/dashboard/audit", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_staff_sign_in_needs_the_password_and_a_fresh_code(site: Site) -> None:
    wang = site.staff["reviewer"]
    with site.client() as c:
        page = c.get("/login")
        form = {**credentials(wang), "csrf": csrf_of(page.text)}
        wrong = c.post("/login", data={**form, "password": "not the password"})
        assert wrong.status_code == 401 and "not valid" in wrong.text
        assert c.post("/login", data=form).status_code == 303
    with site.client() as c:
        page = c.get("/login")
        replayed = c.post("/login", data={**form, "csrf": csrf_of(page.text)})
        assert replayed.status_code == 401
    reasons = [e.detail["reason"] for e in site.deployment.audit_events("refusal")
               if e.detail.get("action") == "staff-sign-in"]
    assert reasons == ["password", "code-replayed"]


def test_the_regulators_documents_from_the_dashboard(site: Site) -> None:
    with site.client() as c:
        sign_in(c, site.staff["auditor"])
        assert "/dashboard/documents" in c.get("/dashboard").text
        page = c.get("/dashboard/documents").text
        link = f"/dashboard/documents/pia?purpose={PURPOSE}&amp;lang=zh&amp;format=pdf"
        assert link in page and "retention-policy" not in page  # R22 is BIPA's
        pdf = c.get(link.replace("&amp;", "&"))
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        assert pdf.headers["x-facegate-audit-seq"]
        html = c.get(f"/dashboard/documents/notice?purpose={PURPOSE}&lang=en&format=html")
        assert "style-src 'unsafe-inline'" in html.headers["content-security-policy"]
    recorded = site.deployment.audit_events("report-generated")
    assert [e.detail["kind"] for e in recorded][-2:] == ["pia", "notice"]
    with site.client() as c:
        sign_in(c, site.staff["reviewer"])
        assert "/dashboard/documents" not in c.get("/dashboard").text
        refused = c.get("/dashboard/documents/filing", follow_redirects=False)
        assert refused.status_code in (303, 403)


def test_roles_see_only_their_sections(site: Site) -> None:
    expected = {"admin": {"Overview", "Subjects", "Audit log", "Filing", "Staff", "Keys",
                          "Documents"},
                "auditor": {"Overview", "Subjects", "Audit log", "Filing", "Documents"},
                "reviewer": {"Overview", "Review queue"},
                "kiosk": set()}
    for role, sections in expected.items():
        with site.client() as c:
            sign_in(c, site.keys[role] if role == "kiosk" else site.staff[role], "/dashboard")
            page = c.get("/dashboard")
            if role == "kiosk":
                # an operator key on a staff browser: the books, hits to act on, kiosk set-up
                assert "Confirmed hits" in page.text and "Set up a kiosk" in page.text
                continue
            nav = set(re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', page.text))
            assert nav == sections, role


def test_a_liveness_purpose_asks_for_the_challenge_before_it_enrolls(
        site: Site, faces: dict[str, Path]) -> None:
    d = site.deployment
    add_purpose(d, "access.lab.entry", modes=("verify",), liveness_required=True)
    kiosk = d.issue_api_key(role="operator", label="lab kiosk", purposes=["access.lab.entry"])
    photo = faces["obama"].read_bytes()
    with site.client() as c:
        token = sign_in(c, kiosk.secret, "/kiosk")
        c.post("/kiosk/choice", data={"choice": "face", "csrf": token})
        c.post("/kiosk/consent", data={"age_band": "adult", "csrf": token})
        page = c.get("/kiosk/capture").text
        assert 'data-liveness="yes"' in page
        challenge = c.post("/kiosk/liveness/challenge", data={"csrf": token}).json()
        assert {a["action"] for a in challenge["actions"]} <= {"blink", "turn_left",
                                                               "turn_right"}
        assert all(a["label"] for a in challenge["actions"])
        frames = [{"at": i / 5, "image": base64.b64encode(photo).decode()} for i in range(5)]
        answer = c.post("/kiosk/liveness/answer", headers={"X-CSRF-Token": token},
                        json={"nonce": challenge["nonce"], "frames": frames})
        assert answer.json()["passed"] is False  # a still photo does not move
        r = c.post("/kiosk/capture", data={"csrf": token},
                   files={"image": ("f.jpg", photo, "image/jpeg")})
        assert r.headers["location"] == "/kiosk/capture?problem=liveness"
        assert d.audit_events("enroll") == []
        assert d.audit_events("refusal")[-1].rule == "H1"


def test_a_notice_published_mid_visit_is_read_before_anyone_consents(site: Site) -> None:
    d = site.deployment
    notice = d.notice(PURPOSE)
    assert notice is not None
    with site.client() as c:
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        c.post("/kiosk/choice", data={"choice": "face", "csrf": token})
        d.publish_notice(purpose=PURPOSE, content={k: dict(v) for k, v in
                                                   notice.content.items()})
        r = c.post("/kiosk/consent", data={"age_band": "adult", "csrf": token})
        assert r.headers["location"] == "/kiosk?renotice=1"
        assert d.subjects() == [] and d.audit_events("consent-granted") == []
        assert "告知书刚刚更新" in c.get("/kiosk?renotice=1").text
        assert c.post("/kiosk/choice", data={"choice": "maybe", "csrf": token}).status_code \
            == 422


def test_an_admin_issues_a_kiosk_key_and_revoking_it_closes_the_kiosk(site: Site) -> None:
    with site.client() as admin, site.client() as kiosk:
        token = sign_in(admin, site.staff["admin"])
        page = admin.post("/dashboard/keys", data={"role": "operator", "label": "Gate 2 kiosk",
                                                    "purposes": PURPOSE, "csrf": token})
        secret = re.search(r'data-secret>([^<]+)<', page.text)
        assert page.status_code == 200 and secret
        issued = next(k for k in site.deployment.api_keys() if k.label == "Gate 2 kiosk")
        assert issued.purposes == frozenset({PURPOSE})
        sign_in(kiosk, secret.group(1), "/kiosk")
        assert kiosk.get("/kiosk").status_code == 200
        assert admin.get("/dashboard/keys").text.count(secret.group(1)) == 0  # shown once
        r = admin.post(f"/dashboard/keys/{issued.id}/revoke", data={"csrf": token})
        assert r.status_code == 303
        assert kiosk.get("/kiosk").headers["location"].startswith("/login")
        assert admin.post("/dashboard/keys", data={"role": "subject", "label": "x",
                                                   "csrf": token}).status_code == 422
    with site.client() as auditor:
        token = sign_in(auditor, site.staff["auditor"])
        assert auditor.get("/dashboard/keys").status_code == 403


def _consented(c: TestClient, site: Site, token: str) -> str:
    """Choose face recognition and consent as an adult; the new subject's id."""
    c.get("/kiosk")
    c.post("/kiosk/choice", data={"choice": "face", "csrf": token})
    before = {s.id for s in site.deployment.subjects()}
    r = c.post("/kiosk/consent", data={"age_band": "adult", "csrf": token})
    assert r.headers["location"] == "/kiosk/capture"
    (subject,) = {s.id for s in site.deployment.subjects()} - before
    assert site.deployment.consents(subject)[-1].kind == "granted"
    return subject


def _abandoned(site: Site, subject: str) -> bool:
    """The subject's consent is withdrawn, and the audit entry says the visit was abandoned."""
    withdrawn = site.deployment.consents(subject)[-1].kind == "withdrawn"
    entries = [e for e in site.deployment.audit_events()
               if e.name == "consent-withdrawn" and e.subject_id == subject]
    return withdrawn and [e.detail.get("reason") for e in entries] == ["abandoned"]


def test_start_over_after_consenting_leaves_no_live_consent(site: Site) -> None:
    with site.client() as c:
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        subject = _consented(c, site, token)
        r = c.post("/kiosk/finish", data={"csrf": token})
        assert r.status_code == 303
        assert _abandoned(site, subject)
        # a visit that never reached consent ends without touching the ledger
        c.get("/kiosk")
        entries = len(site.deployment.audit_events())
        c.post("/kiosk/finish", data={"csrf": token})
        assert len(site.deployment.audit_events()) == entries


def test_an_idle_visit_after_consent_withdraws_it(site: Site) -> None:
    now = [1_000_000.0]
    app: Any = site.app
    app.state.web_sessions = SessionStore(lambda: app.state.service.deployment,
                                          clock=lambda: now[0])
    with site.client() as c:
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        subject = _consented(c, site, token)
        assert 'data-idle-seconds="' in c.get("/kiosk/capture").text
        now[0] += VISIT_LIMIT + 1
        r = c.get("/kiosk/capture")
        assert r.status_code == 303 and r.headers["location"] == "/kiosk"
        assert _abandoned(site, subject)


def test_the_kiosk_signs_out_and_a_consent_left_behind_is_withdrawn(site: Site) -> None:
    with site.client() as c:
        token = sign_in(c, site.keys["kiosk"], "/kiosk")
        subject = _consented(c, site, token)
        page = c.get("/kiosk/capture").text
        assert 'action="/logout"' in page
        confirm = c.get("/logout")
        assert confirm.status_code == 200 and 'action="/logout"' in confirm.text
        r = c.post("/logout", data={"csrf": csrf_of(confirm.text)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert _abandoned(site, subject)
        assert c.get("/kiosk").status_code == 303, "signed out"
