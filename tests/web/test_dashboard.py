"""The dashboard in a real browser, by role: an admin cannot activate a purpose that
lacks its impact assessment; a reviewer confirms an identification hit; an auditor
sees the audit chain verified and cannot reach any biometric operation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from facegate.demo.governed import demo_notice
from facegate.deployment import Deployment

from ..support.governed import consent
from ..support.words import alt, both
from .conftest import Web, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"


def test_an_admin_cannot_activate_a_purpose_missing_its_impact_assessment(
        new_page: Callable[..., Any], web: Web, artifacts: Path) -> None:
    d = web.deployment
    d.register_purpose(key="visitor.checkin", site="hq.lobby", description=both("visitor check-in"),
                       necessity=both("queues at the desk"), legal_basis=both("separate consent"),
                       modes=["verify"], alternatives=[alt("show an ID card at the desk")],
                       retention_days=30)
    d.publish_notice(purpose="visitor.checkin",
                     content=demo_notice())
    page = new_page()
    sign_in(page, web.url, web.staff["admin"])
    assert page.url.endswith("/dashboard")
    shot(page, artifacts, "dashboard-1-overview-admin")
    page.get_by_role("link", name="visitor.checkin").click()
    steps = page.locator(".wizard li")
    assert "missing" in steps.nth(2).inner_text()  # the impact assessment
    assert "complete" in steps.nth(1).inner_text()  # the notice
    activate = page.get_by_role("button", name="Activate purpose")
    assert activate.is_disabled()
    shot(page, artifacts, "dashboard-2-purpose-wizard")
    # Even a forced submission is refused by the gate, with its rule.
    activate.evaluate("b => b.disabled = false")
    activate.click()
    page.wait_for_load_state()
    assert "assessment.missing" in page.locator(".alert").first.inner_text()
    assert d.purpose("visitor.checkin").status == "draft"
    shot(page, artifacts, "dashboard-3-activation-refused")
    # The kiosk's key: an operator key scoped to its purpose, its secret shown once.
    page.locator(".sidenav").get_by_role("link", name="Keys").click()
    page.get_by_label("Role").select_option("operator")
    page.get_by_label("Label").fill("Lobby kiosk 2")
    page.get_by_label(PURPOSE).check()
    page.get_by_role("button", name="Issue key").click()
    assert page.locator("[data-secret]").inner_text().startswith("fg_")
    shot(page, artifacts, "dashboard-9-keys")


def _review_case(d: Deployment, faces: dict[str, Path]) -> str:
    d.configure_review(purpose=PURPOSE, window=timedelta(hours=1))
    for a in d.staff_accounts():
        if a.role == "reviewer":
            d.authorise_reviewer_account(purpose=PURPOSE, account=a.name)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, PURPOSE)
    d.enroll(subject=subject.id, purpose=PURPOSE, image=faces["obama"])
    result = d.identify(purpose=PURPOSE, image=faces["obama2"])
    case = result.faces[0].candidates[0].review_case
    assert case is not None
    return case


def test_a_reviewer_confirms_a_case(new_page: Callable[..., Any], web: Web,
                                    faces: dict[str, Path], artifacts: Path) -> None:
    case = _review_case(web.deployment, faces)
    page = new_page()
    sign_in(page, web.url, web.staff["reviewer"])
    assert page.url.endswith("/dashboard/review")
    assert case in page.inner_text("main")
    shot(page, artifacts, "dashboard-4-review-queue")
    page.get_by_label("Reason (kept in the audit log)").fill(
        "same person as the enrolled photo; badge photo matches")
    page.get_by_role("button", name="Confirm match").click()
    page.wait_for_load_state()
    assert "confirmation was recorded" in page.inner_text("main")
    assert web.deployment.review_case(case).status == "confirmed"
    # Reviewers see no biometric operation and no configuration.
    nav = page.locator(".sidenav").inner_text()
    assert "kiosk" not in nav.lower() and "Audit" not in nav


def test_an_auditor_sees_the_chain_verified_and_cannot_reach_biometrics(
        new_page: Callable[..., Any], web: Web, faces: dict[str, Path],
        artifacts: Path) -> None:
    d = web.deployment
    adult, child = d.register_subject(age_band="adult"), d.register_subject(age_band="under_14")
    consent(d, adult.id, PURPOSE)
    d.enroll(subject=adult.id, purpose=PURPOSE, image=faces["obama"])
    consent(d, child.id, PURPOSE, guardian="Li Na", guardian_relation="mother")
    d.withdraw_consent(subject=child.id, purpose=PURPOSE)
    d.decline(purpose=PURPOSE)
    page = new_page()
    sign_in(page, web.url, web.staff["auditor"])
    page.locator(".sidenav").get_by_role("link", name="Audit log").click()
    assert page.locator("[data-chain=verified]").is_visible()
    assert "Verified" in page.locator(".chain").inner_text()
    shot(page, artifacts, "dashboard-5-audit-auditor")
    page.locator(".sidenav").get_by_role("link", name="Filing").click()
    assert "1" in page.locator(".big-number").inner_text()
    shot(page, artifacts, "dashboard-6-filing")
    page.locator(".sidenav").get_by_role("link", name="Subjects").click()
    assert "withdrawn" in page.inner_text("main") and "granted" in page.inner_text("main")
    shot(page, artifacts, "dashboard-7-subjects")
    page.get_by_role("link", name=adult.id).click()
    assert "Consent history" in page.inner_text("main")
    shot(page, artifacts, "dashboard-8-subject-access-report")
    assert "kiosk" not in page.locator(".sidenav").inner_text().lower()
    # No page and no POST reaches a biometric operation under an auditor's session.
    before = len([e for e in web.deployment.audit_events() if e.name == "refusal"])
    response = page.goto(f"{web.url}/kiosk/setup")
    assert response is not None and response.status == 403
    assert "may not" in page.inner_text("main")
    page.goto(f"{web.url}/dashboard")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    for path in ("/kiosk/capture", "/kiosk/check", "/kiosk/guidance"):
        r = page.request.post(f"{web.url}{path}", multipart={
            "csrf": csrf, "image": {"name": "f.jpg", "mimeType": "image/jpeg",
                                    "buffer": b"\xff\xd8\xff"}})
        assert r.status == 403, path
    refusals = [e for e in web.deployment.audit_events() if e.name == "refusal"]
    assert len(refusals) >= before + 4
    assert all(e.name not in ("enroll", "verify", "identify")
               for e in web.deployment.audit_events() if e.operator.startswith("key:")
               and e.operator in {k.principal for k in web.deployment.api_keys()
                                  if k.role == "auditor"})
