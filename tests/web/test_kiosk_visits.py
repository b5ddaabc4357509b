"""A visit that ends before enrollment leaves no live consent, in a real browser: a person
consents, then presses Start over on the camera screen; the kiosk withdraws that consent
(reason ``abandoned``, audited) and is back at the notice, in Chinese and in English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Web, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

WORDS = {"zh": {"lang": "中文", "face": "使用人脸识别", "adult": "18岁及以上",
                "consent": "我同意", "start_over": "重新开始", "html": "zh-Hans"},
         "en": {"lang": "English", "face": "Use face recognition", "adult": "18 or older",
                "consent": "I consent", "start_over": "Start over", "html": "en"}}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_start_over_after_consenting_leaves_no_live_consent(
        new_page: Callable[..., Any], web: Web, lang: str) -> None:
    said = WORDS[lang]
    d = web.deployment
    page = new_page(viewport={"width": 1180, "height": 900})
    sign_in(page, web.url, web.keys["kiosk"], "/kiosk")
    page.get_by_role("link", name=said["lang"], exact=True).click()
    assert page.locator("html").get_attribute("lang") == said["html"]
    before = {s.id for s in d.subjects()}
    page.get_by_role("button", name=said["face"]).click()
    page.wait_for_url("**/kiosk/consent")
    page.get_by_label(said["adult"]).check()
    page.get_by_role("button", name=said["consent"], exact=True).click()
    page.wait_for_url("**/kiosk/capture")
    (subject,) = {s.id for s in d.subjects()} - before
    assert d.consents(subject)[-1].kind == "granted"

    page.get_by_role("button", name=said["start_over"]).click()
    page.wait_for_url("**/kiosk")
    assert page.get_by_role("button", name=said["face"]).is_visible()
    assert d.consents(subject)[-1].kind == "withdrawn"
    withdrawn = [e for e in d.audit_events()
                 if e.name == "consent-withdrawn" and e.subject_id == subject]
    assert [e.detail.get("reason") for e in withdrawn] == ["abandoned"]
    assert not any(e.name == "enroll" and e.subject_id == subject for e in d.audit_events())
