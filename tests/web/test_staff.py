"""Named staff accounts in a real browser: a reviewer signs in with password and TOTP (a
wrong code is refused); two accounts confirm a case under a two-reviewer profile, the
same account cannot confirm twice, and a purpose's creator barred by its review is
refused; an admin adds an account (its TOTP secret shown once), which then signs in,
and disables it, which signs it out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from facegate.deployment import Deployment

from ..support.governed import add_purpose, consent
from ..support.staff import STAFF_PASSWORD, Staff
from ..support.words import both
from .conftest import Web, shot, sign_in, web_staff

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"


def test_a_reviewer_signs_in_with_password_and_totp_and_a_wrong_code_is_refused(
        new_page: Callable[..., Any], web: Web, artifacts: Path) -> None:
    wang = web.staff["reviewer"]
    page = new_page()
    page.goto(f"{web.url}/login")
    shot(page, artifacts, "staff-1-sign-in")
    page.get_by_label("Account name").fill(wang.name)
    page.get_by_label("Password").fill(wang.password)
    right = wang.code()
    page.get_by_label("Authenticator code").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert "/login" in page.url
    assert "not valid" in page.locator("#login-error").inner_text()
    refusals = [e for e in web.deployment.audit_events("refusal")
                if e.detail.get("action") == "staff-sign-in"]
    assert [(e.detail["reason"], e.detail["account"]) for e in refusals] == [
        ("code", "staff:wang")]
    sign_in(page, web.url, wang)
    assert page.url.endswith("/dashboard/review")
    assert "Wang Fang" in page.inner_text("body")
    signed = web.deployment.audit_events("staff-signed-in")
    assert [e.operator for e in signed] == ["staff:wang"]


@pytest.fixture
def eu_web(open_deployment: Callable[..., Deployment], serve: Callable[[Deployment], str],
           faces: dict[str, Path]) -> tuple[Web, str]:
    """An EU deployment (two reviewers per case) served over HTTP; the purpose registered
    by staff:chen, under review that bars its own people; one pending case."""
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction="eu-gdpr-ai-act",
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, PURPOSE, operator="staff:chen")
    staff = web_staff(d)
    staff["reviewer3"] = Staff(name="zhou", password=STAFF_PASSWORD, totp_secret=d.add_staff(
        name="zhou", display_name="Zhou Min", role="reviewer",
        password=STAFF_PASSWORD).totp_secret)
    d.configure_review(purpose=PURPOSE, window=timedelta(hours=1), bar_own=True)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, PURPOSE, method="written")
    d.enroll(subject=subject.id, purpose=PURPOSE, image=faces["obama"])
    case = d.identify(purpose=PURPOSE, image=faces["obama2"]).faces[0].candidates[0].review_case
    assert case is not None
    return Web(url=serve(d), deployment=d, keys={}, staff=staff), case


def _confirm(page: Any, case: str, reason: str) -> str:
    card = page.locator("section.case", has=page.locator(f"#case-{case}"))
    card.get_by_label("Reason (kept in the audit log)").fill(reason)
    card.get_by_role("button", name="Confirm match").click()
    page.wait_for_load_state()
    return str(page.inner_text("main"))


def test_two_accounts_confirm_a_case_the_same_one_cannot_twice_and_a_barred_creator_is_refused(
        new_page: Callable[..., Any], eu_web: tuple[Web, str], artifacts: Path) -> None:
    web, case = eu_web
    d = web.deployment
    admin = new_page()
    sign_in(admin, web.url, web.staff["admin"])
    # The admin authorises the reviewer accounts from the staff page.
    admin.goto(f"{web.url}/dashboard/staff")
    for name in ("wang", "chen", "zhou"):
        admin.get_by_role("button", name=f"Authorise {name}").click()
        admin.wait_for_load_state()
        assert f"staff:{name} may review {PURPOSE}" in admin.inner_text("main")
    wang = new_page()
    sign_in(wang, web.url, web.staff["reviewer"])
    assert case in wang.inner_text("main")
    assert "confirmation was recorded" in _confirm(wang, case, "same face as the badge photo")
    assert d.review_case(case).status == "pending"
    refused = _confirm(wang, case, "still the same person")
    assert "review.same_reviewer" in refused
    shot(wang, artifacts, "staff-2-same-reviewer-refused")
    # chen registered the purpose; its review bars them (R19).
    chen = new_page()
    sign_in(chen, web.url, web.staff["reviewer2"])
    barred = _confirm(chen, case, "looks like him")
    assert "review.reviewer_barred" in barred and "registered the purpose" in barred
    assert d.review_case(case).confirmations == 1
    zhou = new_page()
    sign_in(zhou, web.url, web.staff["reviewer3"])
    assert "confirmation was recorded" in _confirm(zhou, case, "agree: same person")
    done = d.review_case(case)
    assert (done.status, set(done.reviewers)) == ("confirmed", {"staff:wang", "staff:zhou"})
    assert [e.operator for e in d.audit_events("review-confirm")] == ["staff:wang",
                                                                      "staff:zhou"]


def test_an_admin_adds_an_account_that_signs_in_and_disabling_it_signs_it_out(
        new_page: Callable[..., Any], web: Web, artifacts: Path) -> None:
    admin = new_page()
    sign_in(admin, web.url, web.staff["admin"])
    admin.locator(".sidenav").get_by_role("link", name="Staff").click()
    admin.get_by_label("Account name").fill("sun")
    admin.get_by_label("Display name").fill("Sun Li")
    admin.get_by_label("Role").select_option("auditor")
    admin.get_by_label("Initial password").fill("a long enough password")
    admin.get_by_role("button", name="Add account").click()
    admin.wait_for_load_state()
    secret = admin.locator("[data-totp-secret]").inner_text()
    uri = admin.locator("[data-totp-uri]").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret) and f"secret={secret}" in uri
    shot(admin, artifacts, "staff-3-account-added")
    admin.goto(f"{web.url}/dashboard/staff")
    assert secret not in admin.content()  # shown once
    sun = new_page()
    sign_in(sun, web.url, Staff(name="sun", password="a long enough password",
                                totp_secret=secret))
    assert sun.url.endswith("/dashboard")
    admin.get_by_role("button", name="Disable sun").click()
    admin.wait_for_load_state()
    assert web.deployment.staff_account("sun").disabled
    sun.goto(f"{web.url}/dashboard/audit")
    assert "/login" in sun.url
    added = web.deployment.audit_events("staff-account-added")[-1]
    assert (added.operator, added.detail["account"]) == ("staff:li", "staff:sun")
