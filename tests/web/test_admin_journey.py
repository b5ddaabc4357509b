"""The admin's whole journey in a real browser, from a store holding only the processor
and an admin key to a live identification purpose, without the CLI: a site (a private
space refused with R12), a bilingual purpose, reviewer keys and their authorisation,
review settings, a calibration uploaded as a zip of labelled East-Asian photos with its
DET curve, the notice and the impact assessment, activation; then a subject found by
the deployer's reference, a consent withdrawn and the subject erased, each after a
confirmation page."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facegate.demo.governed import DEMO_PROCESSOR, demo_assessment, demo_notice
from facegate.deployment import Deployment
from facegate.locale import translate
from facegate.subjects.models import AgeBand

from ..support.data import shared_data_dir
from ..support.staff import STAFF_PASSWORD, Staff, add_staff
from .conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

PURPOSE = "access.hq.gate"
EASTASIAN = "eastasian/thefamouspeople_eastasian"
_SUFFIXES = {".jpg", ".jpeg", ".png"}


def calibration_zip(into: Path) -> Path:
    """A small labelled set as a zip of one folder per person: 16 people with two or
    three photos each, then people with one photo, 48 images in all (about 1,100
    different-person pairs: enough to show a false-match rate of 1e-3)."""
    root = shared_data_dir()
    if root is None or not (root / EASTASIAN).is_dir():
        pytest.skip("the calibration upload needs ../shared/data/eastasian "
                    "(set FACEGATE_DATA)")
    people = sorted(p for p in (root / EASTASIAN).iterdir() if p.is_dir())
    photos = {p.name: sorted(f for f in p.iterdir() if f.suffix.lower() in _SUFFIXES)
              for p in people}
    chosen = [(n, fs[:3]) for n, fs in photos.items() if len(fs) >= 2][:16]
    count = sum(len(fs) for _, fs in chosen)
    chosen += [(n, fs) for n, fs in photos.items() if len(fs) == 1][:48 - count]
    path = into / "staff-photos.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, files in chosen:
            for f in files:
                z.write(f, f"{name}/{f.name}")
    return path


@pytest.fixture
def empty(open_deployment: Callable[..., Deployment],
          serve: Callable[[Deployment], str]) -> tuple[Deployment, str, Staff]:
    """A store as ``facegate init`` leaves it (the processor), with one admin account."""
    d = open_deployment()
    d.register_processor(**DEMO_PROCESSOR)
    return d, serve(d), add_staff(d, "li", "admin")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_takes_an_empty_store_to_a_live_identification_purpose_in_the_browser(
        new_page: Callable[..., Any], empty: tuple[Deployment, str, Staff], artifacts: Path,
        tmp_path: Path, lang: str) -> None:
    d, url, admin = empty
    data = calibration_zip(tmp_path)
    assert not d.sites() and not d.purposes()

    def w(words: str, **values: object) -> str:
        """The page's words in the language of the test, from the catalog."""
        return translate(words, lang, **values)

    page = new_page()
    sign_in(page, url, admin, lang=lang)
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if lang == "zh" else "en")

    # 1. A site. A private space is refused by the gate, with its rule.
    page.get_by_role("link", name=w("Register a site")).click()
    page.get_by_label(w("Key")).fill("hq.gate")
    page.get_by_label(w("Type")).select_option("changing_room")
    page.get_by_label(w("Name, in Chinese")).fill("总部大门")
    page.get_by_label(w("Name, in English")).fill("Head office gate")
    page.get_by_role("button", name=w("Register site")).click()
    alert = page.locator(".alert").first.inner_text()
    assert "R12" in alert, alert
    assert not d.sites()
    shot(page, artifacts, f"journey-1-site-refused-{lang}")
    # A public place without its signage is refused too (R13).
    page.get_by_label(w("Type")).select_option("building_entrance")
    page.get_by_label(w("This site is a public place")).check()
    page.get_by_label(w("Capture zone, as marked on site")).fill("gate turnstiles, marked yellow")
    page.get_by_role("button", name=w("Register site")).click()
    alert = page.locator(".alert").first.inner_text()
    assert "site.public_place_unmet" in alert and "R13" in alert, alert
    assert not d.sites()
    # The staff gate is not a public place.
    page.get_by_label(w("This site is a public place")).uncheck()
    page.get_by_label(w("Capture zone, as marked on site")).fill("")
    page.get_by_role("button", name=w("Register site")).click()
    page.wait_for_url("**/dashboard/purposes/new")
    site = d.sites()[0]
    assert (site.key, site.site_type, site.public_place) == ("hq.gate", "building_entrance",
                                                              False)

    # 2. A draft identification purpose, every text in both languages.
    page.get_by_label(w("Key"), exact=False).first.fill(PURPOSE)
    page.get_by_label(w("Name, in Chinese")).fill("总部门禁")
    page.get_by_label(w("Name, in English")).fill("Head office gate access")
    page.get_by_label(w("What is done, in a sentence, in Chinese")).fill("员工刷脸进入总部大门")
    page.get_by_label(w("What is done, in a sentence, in English")).fill(
        "staff enter the head office gate by face")
    page.get_by_label(w("Why face recognition is necessary (CN Art. 4), in Chinese")).fill(
        "门卡经常被借用")
    page.get_by_label(w("Why face recognition is necessary (CN Art. 4), in English")).fill(
        "badges are often lent to others")
    page.get_by_label(w("identify (1:N)")).check()
    page.get_by_label(w("Alternatives for anyone who declines, one a line, in Chinese "
                        "(CN Art. 10)")).fill(
        "出示工牌并由保安核验")
    page.get_by_label(w("The same alternatives, line by line, in English")).fill(
        "staff badge with guard check")
    shot(page, artifacts, f"journey-2-new-purpose-{lang}")
    page.get_by_role("button", name=w("Create draft")).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/purposes/{PURPOSE}"), page.locator("main").inner_text()
    assert d.purpose(PURPOSE).status == "draft"

    # 3. Two reviewers' accounts, added on the Staff page, then review set up and both
    # authorised on the purpose's page.
    for name, display in (("wang", "Wang Fang"), ("chen", "Chen Jing")):
        page.locator(".sidenav").get_by_role("link", name=w("Staff"), exact=True).click()
        page.get_by_label(w("Account name")).fill(name)
        page.get_by_label(w("Display name")).fill(display)
        page.get_by_label(w("Role")).select_option("reviewer")
        page.get_by_label(w("Initial password")).fill(STAFF_PASSWORD)
        page.get_by_role("button", name=w("Add account")).click()
        assert page.locator("[data-totp-secret]").inner_text().strip()
    page.goto(f"{url}/dashboard/purposes/{PURPOSE}")
    page.get_by_label(w("Review deadline (hours)")).fill("48")
    page.get_by_label(w("Distinct reviewers per hit (at least %(n)s here)", n=1)).fill("2")
    page.get_by_role("button", name=w("Save review settings")).click()
    for _ in range(2):
        page.get_by_role("button", name=w("Authorise reviewer")).click()
    reviewers = page.locator("[data-reviewers]").inner_text()
    assert "Wang Fang" in reviewers and "Chen Jing" in reviewers
    settings = d.review_settings(PURPOSE)
    assert settings is not None and settings.window_seconds == 48 * 3600
    assert settings.reviewers == 2
    assert w("Each needs %(n)s distinct authorised reviewers.", n=2) in \
        page.locator("#review").inner_text()
    assert len(d.reviewers(PURPOSE)) == 2

    # 4. The notice and the impact assessment, every item in both languages.
    notice = demo_notice()
    for item, words in notice.items():
        for code, text in words.items():
            page.locator(f"#notice textarea[name='{item}.{code}']").fill(text)
    page.get_by_role("button", name=w("Publish notice")).click()
    assert w("Notice version %(v)s published.", v=1) in page.locator("[role=status]").inner_text()
    for item, words in demo_assessment().items():
        for code, text in words.items():
            page.locator(f"#assessment textarea[name='{item}.{code}']").fill(text)
    page.get_by_label(w("Signed by")).fill("Li Wei, DPO")
    page.get_by_role("button", name=w("Sign assessment")).click()
    assert w("Impact assessment signed.") in page.locator("[role=status]").inner_text()

    # 5. Activation before calibration is refused with R21.
    page.get_by_role("button", name=w("Activate purpose")).evaluate("b => b.disabled = false")
    page.get_by_role("button", name=w("Activate purpose")).click()
    alert = page.locator(".alert").first.inner_text()
    assert "calibration.missing" in alert and "R21" in alert, alert
    assert d.purpose(PURPOSE).status == "draft"
    shot(page, artifacts, f"journey-3-refused-r21-{lang}")

    # 6. A calibration: a zip of labelled photos, measured and recorded; the DET curve.
    page.get_by_label(w("Labelled photos: a zip file of one folder per person (at most 16 "
                        "MiB and 600 images)")).set_input_files(str(data))
    page.get_by_role("button", name=w("Measure and record")).click()
    page.wait_for_url(f"**/dashboard/purposes/{PURPOSE}*")
    calibration = d.calibrations(PURPOSE)[-1]
    assert d.purpose(PURPOSE).calibration_id == calibration.id
    assert calibration.population == d.purpose(PURPOSE).population
    shown = page.locator("[data-threshold]").inner_text()
    assert shown == f"{calibration.threshold:.4f}"
    assert w("95%% interval").replace("%%", "%") in page.locator("#calibration").inner_text()
    assert page.locator("polyline[data-det]").get_attribute("points")
    assert page.locator("#calibration svg title").text_content() == w("DET curve")
    page.locator("#calibration").scroll_into_view_if_needed()
    shot(page, artifacts, f"journey-4-calibration-det-{lang}")

    # 7. Activate.
    assert page.get_by_role("button", name=w("Activate purpose")).is_enabled()
    shot(page, artifacts, f"journey-5-ready-{lang}")
    page.get_by_role("button", name=w("Activate purpose")).click()
    assert w("The purpose is live.") in page.locator("[role=status]").inner_text()
    assert d.purpose(PURPOSE).status == "active"
    shot(page, artifacts, f"journey-6-active-{lang}")

    # 8. A person who consented: found by the deployer's reference; withdraw, then erase.
    person = d.register_subject(external_ref="EMP-0042", age_band=AgeBand.ADULT)
    other = d.register_subject(external_ref="EMP-0043", age_band=AgeBand.ADULT)
    version = d.notice(PURPOSE).version  # type: ignore[union-attr]
    for s in (person, other):
        d.record_consent(subject=s.id, purpose=PURPOSE, notice_version=version,
                         method="on_screen")
    page.locator(".sidenav").get_by_role("link", name=w("Subjects")).click()
    page.get_by_label(w("Find by your reference (external_ref)")).fill("EMP-0042")
    page.get_by_role("button", name=w("Search")).click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "EMP-0042" in rows.first.inner_text()
    assert other.id not in page.content()
    shot(page, artifacts, f"journey-7-subject-search-{lang}")
    page.get_by_role("link", name=person.id).click()
    page.get_by_role("link", name=w("Withdraw consent for %(p)s", p=PURPOSE)).click()
    assert w("The person's face templates and any kept photos for this purpose are deleted "
             "now.") in page.locator("main").inner_text()
    shot(page, artifacts, f"journey-8-withdraw-confirm-{lang}")
    page.get_by_role("button", name=w("Withdraw consent")).click()
    assert w("The consent was withdrawn; the purpose's templates of this person were "
             "deleted.") in page.locator("[role=status]").inner_text()
    assert d.consents(person.id)[-1].kind == "withdrawn"
    page.get_by_role("link", name=w("Erase this subject")).click()
    text = page.locator("main").inner_text()
    assert w("This cannot be undone.") in text
    assert w("every face template, for every purpose;") in text
    shot(page, artifacts, f"journey-9-erase-confirm-{lang}")
    page.get_by_role("button", name=w("Erase for good")).click()
    assert w("The subject was erased.") in page.locator("[role=status]").inner_text()
    assert d.find_subjects(external_ref="EMP-0042") == []
    assert [s.id for s in d.find_subjects(external_ref="EMP-0043")] == [other.id]
    names = [e.name for e in d.audit_events()]
    for event in ("site-registered", "calibration-recorded", "review-configured",
                  "reviewer-authorised", "consent-withdrawn", "subjects-listed"):
        assert event in names, event
