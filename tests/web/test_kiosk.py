"""The kiosk in a real browser: a person reads the notice, chooses face recognition,
consents, is captured by the (fake) camera, enrolled and verified, and takes a receipt
(QR code, short code, print view); with the code they see their data and erase it.
Another declines and is routed to the alternative with no biometric processing at all."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facegate.access.keys import CODE_ALPHABET, CODE_LENGTH
from facegate.web.i18n import text

from .conftest import BIOMETRIC_EVENTS, Web, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.office.entry"


def open_kiosk(new_page: Callable[..., Any], web: Web, **options: Any) -> Any:
    options.setdefault("viewport", {"width": 1180, "height": 900})
    page = new_page(**options)
    sign_in(page, web.url, web.keys["kiosk"], "/kiosk")
    assert page.url.endswith("/kiosk")
    return page


def read_qr(png: bytes) -> list[str]:
    """The QR codes zbar finds in a screenshot (skips when libzbar is missing)."""
    try:
        from pyzbar import pyzbar
    except ImportError as exc:  # pyzbar is in the test extra; libzbar0 is Debian's
        pytest.skip(f"zbar cannot be loaded to read the QR code (apt-get install libzbar0): "
                    f"{exc}")
    from PIL import Image

    found = pyzbar.decode(Image.open(io.BytesIO(png)).convert("L"))
    return [f.data.decode("utf-8") for f in found if f.type == "QRCODE"]


def templates_of(web: Web, subject: str) -> int:
    return sum(1 for _ in web.deployment.access_report(subject).templates)


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
    # The receipt's QR code is the token, in both languages; the short code is 20 symbols
    # with no look-alikes, in groups of four.
    assert read_qr(page.locator("[data-qr]").screenshot()) == [token]
    code = page.locator("[data-code]").inner_text().strip()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4] * (CODE_LENGTH // 4)
    assert set("".join(groups)) <= set(CODE_ALPHABET)
    assert not set("".join(groups)) & set("0O1lI")
    page.get_by_role("link", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert text("receipt_code", "zh") in page.inner_text("main")
    assert read_qr(page.locator("[data-qr]").screenshot()) == [token]
    assert page.locator("[data-code]").inner_text().strip() == code
    shot(page, artifacts, "kiosk-4-receipt-zh")
    # The print view: the QR code, the code, purpose, retention and how to withdraw; no
    # kiosk chrome, no buttons.
    page.emulate_media(media="print")
    for hidden in (".kiosk-bar", ".progress", ".kiosk-foot", ".result", "[data-print]"):
        assert page.locator(hidden).is_hidden(), hidden
    for shown in ("[data-qr]", "[data-code]", "[data-token]"):
        assert page.locator(shown).is_visible(), shown
    printed = page.locator(".receipt").inner_text()
    for words in (text("receipt_purpose", "zh"), text("receipt_kept", "zh"), "365 天",
                  text("receipt_withdraw_text", "zh")):
        assert words in printed
    shot(page, artifacts, "kiosk-4-receipt-print-zh")
    page.emulate_media(media="screen")
    page.get_by_role("link", name="English").click()

    names = [(e.name, e.outcome) for e in web.deployment.audit_events()]
    assert ("enroll", "ok") in names
    assert ("verify", "match") in names
    assert any(n == "consent-granted" for n, _ in names)
    subject = page.locator(".receipt code").first.inner_text().strip()
    assert templates_of(web, subject) == 1
    # The short code, typed in lower case without hyphens, opens the person's data page.
    page.get_by_role("button", name="Finish").click()
    page.get_by_role("link", name="See or erase my data").click()
    page.get_by_label("Personal token or short code").fill(code.replace("-", "").lower())
    page.get_by_role("button", name="Show my data").click()
    page.wait_for_url("**/kiosk/mine")
    main = page.inner_text("main")
    assert "Consented" in main and f"Notice version {notice.version}" in main
    assert page.locator("[data-templates]").inner_text() == "1"
    assert page.locator("[data-images]").inner_text() == text("mine_images_no", "en")
    assert "365 days" in main and "Deleted at the latest on" in main
    assert token not in page.content() and code not in page.content()
    # Left alone, the page closes itself as Start over does.
    assert page.locator("body").get_attribute("data-idle-seconds") == "120"
    shot(page, artifacts, "kiosk-9-mine-en")
    page.get_by_role("link", name="中文").click()
    assert page.locator("[data-templates]").inner_text() == "1"
    assert text("mine_summary", "zh") in page.inner_text("main")
    shot(page, artifacts, "kiosk-9-mine-zh")
    page.get_by_role("link", name="English").click()
    # Erasing asks first; "No" changes nothing.
    page.get_by_role("button", name="Erase all my data").click()
    assert "Erase all your data?" in page.inner_text("main")
    page.get_by_role("link", name="No, go back").click()
    assert templates_of(web, subject) == 1
    page.get_by_role("button", name="Erase all my data").click()
    page.get_by_role("button", name="Yes, erase everything").click()
    assert "Face templates deleted: 1" in page.inner_text("main")
    report = web.deployment.access_report(subject)
    assert report.erased and not report.templates
    erased = [e for e in web.deployment.audit_events() if e.name == "subject-erased"]
    assert [(e.subject_id, e.detail["templates"]) for e in erased] == [(subject, 1)]
    assert any(e.name == "subject-access" and e.subject_id == subject
               for e in web.deployment.audit_events())


def consented(web: Web) -> tuple[str, str, str]:
    """A subject who consented at the desk: their id, token and code (as the receipt
    groups it)."""
    d = web.deployment
    subject = d.register_subject(age_band="adult").id
    notice = d.notice(PURPOSE)
    assert notice is not None
    _, token, code = d.consent_with_receipt(subject=subject, purpose=PURPOSE,
                                            notice_version=notice.version, method="on_screen")
    grouped = "-".join(code.secret[i:i + 4] for i in range(0, len(code.secret), 4))
    return subject, token.secret, grouped


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_short_code_withdraws_and_a_wrong_one_is_refused_in_the_kiosks_words(
        new_page: Callable[..., Any], web: Web, lang: str) -> None:
    subject, _, code = consented(web)
    page = open_kiosk(new_page, web)
    page.goto(f"{web.url}/kiosk/prefs?lang={lang}&back=/kiosk/withdraw")
    field = page.locator("#token")
    submit = page.locator("form.withdraw button[type=submit]")
    # Native validation speaks the kiosk's language: an empty field, then a wrong shape.
    submit.click()
    assert field.evaluate("e => e.validationMessage") == text("token_required", lang)
    field.fill("abc")
    submit.click()
    assert field.evaluate("e => e.validationMessage") == text("token_pattern", lang)
    assert page.url.endswith("/kiosk/withdraw")  # nothing was sent
    # A code of the right shape that nobody holds: refused in the kiosk's words, audited.
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    field.fill(wrong)
    submit.click()
    assert page.locator("#token-error").inner_text() == text("withdraw_bad", lang)
    assert any(e.name == "refusal" and e.detail.get("action") == "POST /kiosk/withdraw"
               for e in web.deployment.audit_events())
    assert any(c["kind"] == "granted"
               for c in web.deployment.access_report(subject).consents)
    # The right code, with spaces for hyphens and in lower case, withdraws.
    page.locator("#token").fill(code.replace("-", " ").lower())
    page.locator("form.withdraw button[type=submit]").click()
    assert text("withdraw_done", lang) in page.inner_text("main")
    kinds = [c["kind"] for c in web.deployment.access_report(subject).consents]
    assert kinds == ["granted", "withdrawn"]


def test_guessing_codes_at_a_kiosk_is_rate_limited(new_page: Callable[..., Any],
                                                  web: Web) -> None:
    _, token, _ = consented(web)
    page = open_kiosk(new_page, web)
    page.goto(f"{web.url}/kiosk/prefs?lang=en&back=/kiosk/mine")
    statuses = []
    for n in range(12):
        page.locator("#token").fill(f"{CODE_ALPHABET[n] * 4}-AAAA-BBBB-CCCC-DDDD")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("form.withdraw button[type=submit]").click()
        statuses.append(answer.value.status)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert page.locator("#token-error").inner_text() == text("entries_slow", "en")
    # Even the right token waits now.
    page.locator("#token").fill(token)
    page.locator("form.withdraw button[type=submit]").click()
    assert page.locator("#token-error").inner_text() == text("entries_slow", "en")
    assert any(e.name == "refusal" and e.outcome == "rate.limited"
               for e in web.deployment.audit_events())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_required_consent_fields_speak_the_kiosks_language(new_page: Callable[..., Any],
                                                           web: Web, lang: str) -> None:
    page = open_kiosk(new_page, web)
    page.goto(f"{web.url}/kiosk/prefs?lang={lang}")
    page.locator("button.choice[value=face]").click()
    page.wait_for_url("**/kiosk/consent")
    page.locator("form.consent button[type=submit]").first.click()
    radio = page.locator("input[name=age_band]").first
    assert radio.evaluate("e => e.validationMessage") == text("choose_required", lang)
    page.locator("input[value=under_14]").check()
    page.locator("form.consent button[type=submit]").first.click()
    guardian = page.locator("input[name=guardian]")
    assert guardian.evaluate("e => e.validationMessage") == text("field_required", lang)
    assert page.url.endswith("/kiosk/consent")


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
