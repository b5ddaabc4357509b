"""/docs in Debian's chromium: Swagger UI renders the service's operations from the
bundled assets under the page CSP, with no request leaving the service and no CSP
violation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Web, shot

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_offline_under_the_csp(web: Web, new_page: Callable[..., Any],
                                                  artifacts: Path) -> None:
    page = new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: None if r.url.startswith(web.url) or r.url.startswith(
        "data:") else elsewhere.append(r.url))
    page.goto(f"{web.url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=60_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/verify" in p for p in paths) and any("/v1/events" in p for p in paths)
    assert "facegate" in page.locator(".title").first.inner_text()
    shot(page, artifacts, "docs")
    assert elsewhere == []
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
