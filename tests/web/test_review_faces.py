"""Review with faces in a real browser under the EU profile (two reviewers, R19), in
Chinese and in English: a reviewer signs in with her own account (password and TOTP
code), sees the probe's face, loaded from memory, the instruction where no reference
photo was kept, and the score's false-match rate; confirms; cannot confirm twice; a
second reviewer's confirmation confirms the case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from facegate.deployment import Deployment
from facegate.locale import translate

from ..support.governed import add_purpose, consent
from ..support.staff import Staff
from ..support.words import both
from .conftest import shot, sign_in, web_staff
from .test_accessibility import axe_source, serious  # noqa: F401  (axe_source: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"
FACES_LOADED = ("() => { const i = [...document.querySelectorAll('img[data-face]')];"
                " return i.length > 0 && i.every(x => x.complete && x.naturalWidth > 0); }")


def _eu_case(open_deployment: Callable[..., Deployment],
             faces: dict[str, Path]) -> tuple[Deployment, dict[str, Staff], str]:
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction="eu-gdpr-ai-act",
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, PURPOSE)
    staff = web_staff(d)
    d.configure_review(purpose=PURPOSE, window=timedelta(hours=1))
    for who in ("reviewer", "reviewer2"):
        d.authorise_reviewer_account(purpose=PURPOSE, account=staff[who].name)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, PURPOSE)
    d.enroll(subject=subject.id, purpose=PURPOSE, image=faces["obama"])
    case = d.identify(purpose=PURPOSE, image=faces["obama2"]).faces[0].candidates[0].review_case
    assert case is not None
    return d, staff, case


def _confirm(page: Any, reason: str, lang: str) -> None:
    page.get_by_label(translate("Reason (kept in the audit log)", lang)).fill(reason)
    page.get_by_role("button", name=translate("Confirm match", lang)).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_r19_two_reviewers_confirm_a_case_seeing_its_face(
        new_page: Callable[..., Any], open_deployment: Callable[..., Deployment],
        serve: Callable[[Deployment], str], faces: dict[str, Path], artifacts: Path,
        request: pytest.FixtureRequest, lang: str) -> None:
    """Two reviewers, each signed in with their own account (password and TOTP code),
    see the probe's face, what to check instead of a reference photo and the false-match
    rate in the page's language, and confirm; the same person cannot confirm twice."""
    d, staff, case = _eu_case(open_deployment, faces)
    url = serve(d)
    page = new_page()
    sign_in(page, url, staff["reviewer"], lang=lang)
    assert page.url.endswith("/dashboard/review")
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if lang == "zh" else "en")
    page.wait_for_function(FACES_LOADED)
    probe = page.locator("img[data-face=probe]")
    assert probe.count() == 1 and case in (probe.get_attribute("alt") or "")
    assert probe.evaluate("i => i.naturalWidth") > 0
    main = page.inner_text("main")
    instead = {"zh": ("未保存该候选人的参考照片", "员工卡加保安核验或身份证件"),
               "en": ("No reference photo of this candidate was kept",
                      "staff badge with guard check, or an ID document")}
    other = "en" if lang == "zh" else "zh"
    assert all(words in main for words in instead[lang])
    assert not any(words in main for words in instead[other])
    fmr = page.locator("[data-fmr]").inner_text()
    assert ("95% 置信区间" if lang == "zh" else "95% CI") in fmr
    assert "0.0%" not in fmr and not fmr.startswith("0%")
    shot(page, artifacts, f"review-faces-{lang}")
    # the copy for the documentation: the sample photos are for internal testing only,
    # so the faces are blurred there
    page.evaluate("() => document.querySelectorAll('img[data-face]')"
                  ".forEach(i => { i.style.filter = 'blur(24px)'; })")
    shot(page, artifacts, f"dashboard-review-faces-{lang}")
    page.evaluate("() => document.querySelectorAll('img[data-face]')"
                  ".forEach(i => { i.style.filter = ''; })")
    try:
        axe = request.getfixturevalue("axe_source")
    except pytest.skip.Exception:  # no npm here: the faces are still checked
        axe = None
    if axe is not None:  # axe runs inline: in a page of its own that may run it
        checked = new_page(bypass_csp=True)
        sign_in(checked, url, staff["reviewer"], lang=lang)
        checked.wait_for_function(FACES_LOADED)
        assert serious(checked, axe) == []
    _confirm(page, "same person as the enrolled photo", lang)
    assert translate("Your confirmation was recorded.", lang) in page.inner_text("main")
    assert d.review_case(case).status == "pending" and d.review_case(case).confirmations == 1
    # the same person cannot confirm twice
    _confirm(page, "still the same person", lang)
    assert "review.same_reviewer" in page.locator(".alert").inner_text()
    assert d.review_case(case).confirmations == 1
    # a second reviewer, with her own account, sees the face too and confirms
    second = new_page()
    sign_in(second, url, staff["reviewer2"], lang=lang)
    second.wait_for_function(FACES_LOADED)
    _confirm(second, "same person; ear and hairline agree", lang)
    case_now = d.review_case(case)
    assert case_now.status == "confirmed"
    assert sorted(x.reviewer for x in case_now.decisions) == sorted(
        f"staff:{staff[w].name}" for w in ("reviewer", "reviewer2"))
    assert translate("Nothing waiting.", lang) in second.inner_text("main")
    viewed = d.audit_events("review-face-viewed")
    assert {e.operator for e in viewed} == {f"staff:{staff[w].name}"
                                            for w in ("reviewer", "reviewer2")}
