"""Review with faces in a real browser under the EU profile (two reviewers, R19): a
reviewer sees the probe's face, loaded from memory, the instruction where no reference
photo was kept, and the score's false-match rate; confirms; cannot confirm twice; a
second reviewer's confirmation confirms the case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from facegate.deployment import Deployment

from ..support.governed import add_purpose, consent
from ..support.words import both
from .conftest import shot, sign_in, web_keys
from .test_accessibility import axe_source, serious  # noqa: F401  (axe_source: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"
FACES_LOADED = ("() => { const i = [...document.querySelectorAll('img[data-face]')];"
                " return i.length > 0 && i.every(x => x.complete && x.naturalWidth > 0); }")


def _eu_case(open_deployment: Callable[..., Deployment],
             faces: dict[str, Path]) -> tuple[Deployment, dict[str, str], str]:
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction="eu-gdpr-ai-act",
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, PURPOSE)
    keys = web_keys(d)
    d.configure_review(purpose=PURPOSE, window=timedelta(hours=1))
    for k in d.api_keys():
        if k.role == "reviewer":
            d.authorise_reviewer(purpose=PURPOSE, reviewer=k.principal)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, PURPOSE)
    d.enroll(subject=subject.id, purpose=PURPOSE, image=faces["obama"])
    case = d.identify(purpose=PURPOSE, image=faces["obama2"]).faces[0].candidates[0].review_case
    assert case is not None
    return d, keys, case


def _confirm(page: Any, reason: str) -> None:
    page.get_by_label("Reason (kept in the audit log)").fill(reason)
    page.get_by_role("button", name="Confirm match").click()
    page.wait_for_load_state()


def test_r19_two_reviewers_confirm_a_case_seeing_its_face(
        new_page: Callable[..., Any], open_deployment: Callable[..., Deployment],
        serve: Callable[[Deployment], str], faces: dict[str, Path], artifacts: Path,
        request: pytest.FixtureRequest) -> None:
    d, keys, case = _eu_case(open_deployment, faces)
    url = serve(d)
    page = new_page()
    sign_in(page, url, keys["reviewer"])
    assert page.url.endswith("/dashboard/review")
    page.wait_for_function(FACES_LOADED)
    probe = page.locator("img[data-face=probe]")
    assert probe.count() == 1 and case in (probe.get_attribute("alt") or "")
    assert probe.evaluate("i => i.naturalWidth") > 0
    main = page.inner_text("main")
    assert "No reference photo of this candidate was kept" in main
    assert "staff badge with guard check, or an ID document" in main
    assert "未保存该候选人的参考照片" in main and "身份证件" in main
    fmr = page.locator("[data-fmr]").inner_text()
    assert "95% CI" in fmr and "95% 置信区间" in fmr
    assert "0.0%" not in fmr and not fmr.startswith("0%")
    shot(page, artifacts, "review-faces-en")
    try:
        axe = request.getfixturevalue("axe_source")
    except pytest.skip.Exception:  # no npm here: the faces are still checked
        axe = None
    if axe is not None:  # axe runs inline: in a page of its own that may run it
        checked = new_page(bypass_csp=True)
        sign_in(checked, url, keys["reviewer"])
        checked.wait_for_function(FACES_LOADED)
        assert serious(checked, axe) == []
    _confirm(page, "same person as the enrolled photo")
    assert "confirmation was recorded" in page.inner_text("main")
    assert d.review_case(case).status == "pending" and d.review_case(case).confirmations == 1
    # the same reviewer cannot confirm twice
    _confirm(page, "still the same person")
    assert "review.same_reviewer" in page.locator(".alert").inner_text()
    assert d.review_case(case).confirmations == 1
    # a second reviewer sees the face too and confirms
    second = new_page()
    sign_in(second, url, keys["reviewer2"])
    second.wait_for_function(FACES_LOADED)
    _confirm(second, "same person; ear and hairline agree")
    assert d.review_case(case).status == "confirmed"
    assert "Nothing waiting." in second.inner_text("main")
    viewed = d.audit_events("review-face-viewed")
    assert {e.operator for e in viewed} == {k.principal for k in d.api_keys()
                                            if k.role == "reviewer"}
