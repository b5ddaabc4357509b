"""The kiosk in a real browser: a person reads the notice, chooses face recognition,
consents, is captured by the (fake) camera, enrolled and verified; another declines
and is routed to the alternative with no biometric processing at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import BIOMETRIC_EVENTS, Web, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"


def open_kiosk(new_page: Callable[..., Any], web: Web, **options: Any) -> Any:
    options.setdefault("viewport", {"width": 1180, "height": 900})
    page = new_page(**options)
    sign_in(page, web.url, web.keys["kiosk"], "/kiosk")
    assert page.url.endswith("/kiosk")
    return page


def test_a_person_enrolls_at_the_kiosk_and_is_verified(new_page: Callable[..., Any], web: Web,
                                                       artifacts: Path) -> None:
    page = open_kiosk(new_page, web)
    # The notice, in Chinese first, generated from the purpose's records (with the
    # published notice's own words after them).
    notice = web.deployment.notice(PURPOSE)
    assert notice is not None
    said = web.deployment.notice_text(PURPOSE)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    shown = page.locator(".notice-items").inner_text()
    for item in ("processor", "retention_period", "how_to_exercise_rights", "accessibility"):
        for paragraph in said["zh"][item]:
            assert paragraph in shown, item
    assert "365 天" in shown and "365 days" not in shown
    assert notice.content["accessibility"]["zh"] in shown
    face = page.get_by_role("button", name="使用人脸识别")
    other = page.get_by_role("button", name="使用其他方式")
    box_face, box_other = face.bounding_box(), other.bounding_box()
    assert box_face and box_other
    assert (box_face["width"], box_face["height"]) == (box_other["width"], box_other["height"])
    assert face.evaluate("e => getComputedStyle(e).backgroundColor") == \
        other.evaluate("e => getComputedStyle(e).backgroundColor")
    shot(page, artifacts, "kiosk-1-notice-zh")

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert said["en"]["purpose_and_method"][0] in page.inner_text("main")
    shot(page, artifacts, "kiosk-1-notice-en")

    page.get_by_role("button", name="Use face recognition").click()
    page.wait_for_url("**/kiosk/consent")
    assert page.locator("input[name=age_band]:checked").count() == 0  # nothing pre-ticked
    assert page.locator("[data-guardian]").is_hidden()
    page.get_by_label("Under 14").check()
    assert page.locator("[data-guardian]").is_visible()
    shot(page, artifacts, "kiosk-2-consent-guardian")
    page.get_by_label("18 or older").check()
    shot(page, artifacts, "kiosk-2-consent")
    page.get_by_role("button", name="I consent", exact=True).click()
    page.wait_for_url("**/kiosk/capture")

    # Live guidance from the quality check on the fake camera's frames, then capture.
    shoot = page.get_by_role("button", name="Take photo")
    page.wait_for_function("() => document.querySelector('[data-capture]')"
                           ".classList.contains('good')", timeout=120_000)
    assert shoot.is_enabled()
    assert "Hold still" in page.locator("[data-guide]").inner_text()
    shot(page, artifacts, "kiosk-3-capture")
    shoot.click()
    page.wait_for_url("**/kiosk/check", timeout=120_000)
    check = page.get_by_role("button", name="Check now")
    page.wait_for_function("() => document.querySelector('[data-capture]')"
                           ".classList.contains('good')", timeout=120_000)
    check.click()
    page.wait_for_url("**/kiosk/done", timeout=120_000)
    assert "It recognised you" in page.inner_text("main")
    token = page.locator("[data-token]").inner_text().strip()
    assert token
    shot(page, artifacts, "kiosk-4-receipt")

    names = [(e.name, e.outcome) for e in web.deployment.audit_events()]
    assert ("enroll", "ok") in names
    assert ("verify", "match") in names
    assert any(n == "consent-granted" for n, _ in names)
    # The receipt's token is the subject's own key: it withdraws at the kiosk.
    page.get_by_role("button", name="Finish").click()
    page.get_by_role("link", name="Withdraw consent").click()
    page.get_by_label("Personal token").fill(token)
    page.get_by_role("button", name="Withdraw and delete").click()
    assert "Face templates deleted: 1" in page.inner_text("main")


def test_declining_routes_to_the_alternative_without_biometric_processing(
        new_page: Callable[..., Any], web: Web, artifacts: Path) -> None:
    page = open_kiosk(new_page, web)
    before = len(web.deployment.audit_events())
    subjects = len(web.deployment.subjects())
    page.get_by_role("link", name="English").click()
    page.get_by_role("button", name="Use another way").click()
    page.wait_for_url("**/kiosk/alternative")
    assert "staff badge with guard check" in page.inner_text("main")
    assert "same service" in page.inner_text("main")
    shot(page, artifacts, "kiosk-5-alternative-en")
    visit = web.deployment.audit_events()[before:]
    assert [e.name for e in visit if e.name == "route-to-alternative"] == ["route-to-alternative"]
    assert not [e.name for e in visit if BIOMETRIC_EVENTS.match(e.name)]
    assert len(web.deployment.subjects()) == subjects  # nobody was even registered


def test_large_text_mode_and_keyboard_only(new_page: Callable[..., Any], web: Web,
                                          artifacts: Path) -> None:
    page = open_kiosk(new_page, web)
    small = page.locator(".choice-title").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    page.get_by_role("button", name="大字模式").click()
    assert page.locator("html").get_attribute("class") == "large"
    large = page.locator(".choice-title").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert large > small * 1.2
    shot(page, artifacts, "kiosk-6-large-text-zh")
    # Keyboard only: tab to the face recognition choice and press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.value") == "face":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/kiosk/consent")
