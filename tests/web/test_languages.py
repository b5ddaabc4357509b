"""The staff pages in Chinese and English, in a real browser: the language switch turns
every page (overview, audit log, filing, documents, keys, staff, subjects, a purpose's
page, the new purpose and site forms, sign-out, an error page) into Chinese with none of
its English words left (the visible text checked against the catalog's English words),
``<html lang>`` follows, and a browser that prefers Chinese (Accept-Language) or asks
with ``?lang=zh`` gets Chinese first."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from .conftest import Web, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

#: The pages converted to the catalogs, with an error page (an unknown document).
PAGES = ("/dashboard", "/dashboard/audit", "/dashboard/filing", "/dashboard/documents",
         "/dashboard/keys", "/dashboard/staff", "/dashboard/subjects",
         "/dashboard/purposes/access.office.entry", "/dashboard/purposes/new",
         "/dashboard/sites/new", "/logout", "/dashboard/documents/no-such-kind")


def _english_words() -> list[str]:
    """The literal pieces (between placeholders) of every English word in the catalog."""
    with (files("facegate.locale") / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh")
    pieces: set[str] = set()
    for message in catalog:
        for msgid in [message.id] if isinstance(message.id, str) else message.id:
            for piece in re.split(r"%\(\w+\)[sd]|%%", msgid):
                piece = piece.strip(" :;,.()")
                if re.search(r"[A-Za-z]{2}", piece):
                    pieces.add(piece)
    return sorted(pieces)


#: The deployment's own words, shown as they are in every language: the keys' labels, the
#: staff's names and the test purposes' alternative's key.
DATA_LABELS = ("staff badge with guard check", "Office admin", "External auditor",
               "Lobby kiosk", "Reviewer Wang", "Reviewer Chen", "Li Admin", "Zhao Audit",
               "Front Desk", "Wang Fang", "Chen Jing")


def _without_data(text: str, names: list[str]) -> str:
    """``text`` without the records' identifiers (``access.office.entry``, ``key:...``,
    hashes), the audit log's event ``names`` and the keys' labels, which no catalog
    translates."""
    for label in DATA_LABELS:
        text = text.replace(label, " ")
    for name in names:
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", " ", text)
    return re.sub(r"[\w]+(?:[.\-_:/][\w]+)+", " ", text)


def _english_left(words: list[str], text: str, names: list[str]) -> list[str]:
    plain = _without_data(text, names)
    return [w for w in words
            if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", plain, re.I)]


def _visible(page: Any) -> str:
    return str(page.locator("body").inner_text()) + "\n" + str(page.title())


def test_the_staff_pages_switch_to_chinese_with_no_english_left(
        new_page: Callable[..., Any], web: Web, artifacts: Path) -> None:
    page = new_page()  # Chromium asks for en-US
    sign_in(page, web.url, web.staff["admin"])
    english: dict[str, str] = {}
    for path in PAGES:
        page.goto(f"{web.url}{path}")
        assert page.locator("html").get_attribute("lang") == "en"
        english[path] = _visible(page)
    assert "Audit chain" in english["/dashboard"]
    # The switch, from any page, keeps the page and changes its words.
    page.goto(f"{web.url}/dashboard/audit")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/dashboard/audit")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="审计日志", level=1).is_visible()
    words = _english_words()
    left: dict[str, list[str]] = {}
    for path in PAGES:
        page.goto(f"{web.url}{path}")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        chinese = _visible(page)
        assert re.search(r"[\u4e00-\u9fff]", chinese)
        stayed = _english_left(words, chinese, web.deployment.audit_event_names())
        if stayed:
            left[path] = stayed
        shot(page, artifacts, "dashboard-zh" + path.replace("/", "-"))
    assert left == {}
    # The error page: its title and the error's message in Chinese, the code as it is.
    page.goto(f"{web.url}/dashboard/documents/no-such-kind")
    assert page.get_by_role("heading", name="出错了").is_visible()
    assert page.locator(".alert").inner_text() == "未找到。"  # the API's zh message
    assert "registry.not_found" in _visible(page)
    # Back to English.
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Something went wrong" in _visible(page)


def test_a_browser_that_prefers_chinese_gets_chinese_first(
        new_page: Callable[..., Any], web: Web) -> None:
    page = new_page(locale="zh-CN")  # Accept-Language: zh-CN
    page.goto(f"{web.url}/logout")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="退出登录").is_visible()
    english = new_page()
    english.goto(f"{web.url}/logout")
    assert english.get_by_role("heading", name="Sign out").is_visible()
    english.goto(f"{web.url}/logout?lang=zh")
    assert english.get_by_role("heading", name="退出登录").is_visible()
    # The switch outweighs both.
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Sign out").is_visible()
    page.goto(f"{web.url}/logout?lang=zh")
    assert page.locator("html").get_attribute("lang") == "en"
