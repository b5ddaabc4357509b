"""axe-core in the page on every kiosk screen: no serious or critical violation.

axe-core comes from the npm registry at test time (``npm pack``, a pinned version,
its ``axe.min.js`` checked against a pinned SHA-256) into a cache folder; nothing is
vendored. Without npm or the registry the test skips and says why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..support.governed import consent
from .conftest import Web, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

AXE_VERSION = "4.10.2"
AXE_SHA256 = "b511cd9dec01c76f4b2ad1723b66b6db37d4c2eb4ed199076e1829d9ee7b75e3"


def _cache() -> Path:
    root = os.environ.get("FACEGATE_CACHE") or os.environ.get("XDG_CACHE_HOME") or \
        str(Path.home() / ".cache")
    return Path(root) / "facegate" / f"axe-core-{AXE_VERSION}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """``axe.min.js`` of the pinned axe-core, fetched once with ``npm pack``."""
    target = _cache() / "axe.min.js"
    if not target.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core cannot be fetched for the "
                        "accessibility check")
        target.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"],
                              cwd=target.parent, capture_output=True, text=True, timeout=180,
                              check=False)
        tgz = target.parent / f"axe-core-{AXE_VERSION}.tgz"
        if done.returncode != 0 or not tgz.is_file():
            pytest.skip(f"npm could not fetch axe-core@{AXE_VERSION}: "
                        f"{(done.stderr or done.stdout).strip()[:200]}")
        with tarfile.open(tgz) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            data = member.read()
        tgz.unlink()
        if hashlib.sha256(data).hexdigest() != AXE_SHA256:
            pytest.fail(f"axe-core@{AXE_VERSION}'s axe.min.js does not have the pinned SHA-256")
        target.write_bytes(data)
    data = target.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "the cached axe.min.js was altered"
    return data.decode("utf-8")


def serious(page: Any, axe: str) -> list[str]:
    """axe's serious and critical violations on the page (WCAG 2.x A and AA rules)."""
    page.add_script_tag(content=axe)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kiosk_screens_have_no_serious_accessibility_violations(
        new_page: Callable[..., Any], web: Web, axe_source: str, artifacts: Path,
        lang: str) -> None:
    # The pages' CSP forbids inline scripts; the test bypasses it only to inject axe.
    page = new_page(viewport={"width": 1180, "height": 900}, bypass_csp=True)
    sign_in(page, web.url, web.keys["kiosk"], "/kiosk")
    page.goto(f"{web.url}/kiosk/prefs?lang={lang}")
    found = {"notice": serious(page, axe_source)}
    page.goto(f"{web.url}/kiosk/prefs?large=1")
    found["notice, large text"] = serious(page, axe_source)
    page.goto(f"{web.url}/kiosk/prefs?large=0")
    page.locator("button.choice[value=face]").click()
    page.wait_for_url("**/kiosk/consent")
    found["consent"] = serious(page, axe_source)
    shot(page, artifacts, f"kiosk-8-consent-{lang}")
    page.locator("input[value=adult]").check()
    page.locator("form.consent button[type=submit]").first.click()
    page.wait_for_url("**/kiosk/capture")
    page.wait_for_function("() => document.querySelector('[data-capture]')"
                           ".classList.contains('live')")
    found["capture"] = serious(page, axe_source)
    page.wait_for_function("() => document.querySelector('[data-capture]')"
                           ".classList.contains('good')", timeout=120_000)
    shot(page, artifacts, f"kiosk-8-capture-{lang}")
    page.locator("[data-shoot]").click()
    page.wait_for_url("**/kiosk/check", timeout=120_000)
    page.wait_for_function("() => document.querySelector('[data-capture]')"
                           ".classList.contains('good')", timeout=120_000)
    page.locator("[data-shoot]").click()
    page.wait_for_url("**/kiosk/done", timeout=120_000)
    found["receipt"] = serious(page, axe_source)
    page.emulate_media(media="print")
    found["receipt, printed"] = serious(page, axe_source)
    page.emulate_media(media="screen")
    code = page.locator("[data-code]").inner_text().strip()
    page.locator("form[action='/kiosk/finish'] button.primary").click()
    page.locator("button.choice[value=alternative]").click()
    page.wait_for_url("**/kiosk/alternative")
    found["alternative"] = serious(page, axe_source)
    page.goto(f"{web.url}/kiosk/withdraw")
    found["withdraw"] = serious(page, axe_source)
    shot(page, artifacts, f"kiosk-7-withdraw-{lang}")
    page.locator("#token").fill("2222-2222-2222-2222-2222")
    page.locator("form.withdraw button[type=submit]").click()
    found["withdraw, refused"] = serious(page, axe_source)
    page.goto(f"{web.url}/kiosk/mine")
    found["my data: entry"] = serious(page, axe_source)
    page.locator("#token").fill(code)
    page.locator("form.withdraw button[type=submit]").click()
    page.wait_for_url("**/kiosk/mine")
    found["my data"] = serious(page, axe_source)
    page.locator("form[action='/kiosk/mine/erase'] button").click()
    found["my data: confirm erasure"] = serious(page, axe_source)
    page.locator("form[action='/kiosk/mine/erase'] button").click()
    found["my data: erased"] = serious(page, axe_source)
    shot(page, artifacts, f"kiosk-9-erased-{lang}")
    assert {screen: v for screen, v in found.items() if v} == {}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_pages_have_no_serious_accessibility_violations(
        new_page: Callable[..., Any], web: Web, axe_source: str, lang: str) -> None:
    """Every staff page, in Chinese and in English (the review queue with its faces is
    checked in tests/web/test_review_faces.py)."""
    person = web.deployment.register_subject(external_ref="EMP-1", age_band="adult")
    consent(web.deployment, person.id, "access.office.entry")
    page = new_page(bypass_csp=True)
    sign_in(page, web.url, web.staff["admin"], lang=lang)
    found = {}
    for path in ("/dashboard", "/dashboard/purposes/access.office.entry", "/dashboard/audit",
                 "/dashboard/filing", "/dashboard/documents", "/dashboard/subjects",
                 "/dashboard/keys", "/dashboard/staff",
                 "/dashboard/purposes/new", "/dashboard/sites/new",
                 "/dashboard/subjects?external_ref=EMP-1", f"/dashboard/subjects/{person.id}",
                 f"/dashboard/subjects/{person.id}/withdraw?purpose=access.office.entry",
                 f"/dashboard/subjects/{person.id}/erase", "/dashboard/documents/no-such-kind"):
        page.goto(f"{web.url}{path}")
        assert page.locator("html").get_attribute("lang") == \
            ("zh-Hans" if lang == "zh" else "en"), path
        found[path] = serious(page, axe_source)
    operator = new_page(bypass_csp=True)
    sign_in(operator, web.url, web.staff["operator"], lang=lang)
    operator.goto(f"{web.url}/dashboard/review")
    found["/dashboard/review (confirmed hits)"] = serious(operator, axe_source)
    for path in ("/logout", "/login"):
        page.goto(f"{web.url}{path}")
        found[path] = serious(page, axe_source)
    assert {p: v for p, v in found.items() if v} == {}
