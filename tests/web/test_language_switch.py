"""The language switch over HTTP: it goes back only to a page of this site, keeps the
choice in the session, and each page names its language (``Content-Language``,
``<html lang>``)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment


def test_the_switch_goes_back_only_to_this_site_and_is_kept(books: Deployment) -> None:
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=books)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/logout", headers={"Accept-Language": "en-GB"})
        assert page.headers["content-language"] == "en" and '<html lang="en">' in page.text
        for back in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            r = client.get("/language", params={"to": "zh", "back": back})
            assert (r.status_code, r.headers["location"]) == (303, "/dashboard")
        r = client.get("/language", params={"to": "zh", "back": "/logout"})
        assert r.headers["location"] == "/logout"
        page = client.get("/logout", headers={"Accept-Language": "en-GB"})
        assert page.headers["content-language"] == "zh"
        assert '<html lang="zh-Hans">' in page.text and "退出登录" in page.text
        # An unknown language changes nothing.
        client.get("/language", params={"to": "fr", "back": "/logout"})
        assert client.get("/logout").headers["content-language"] == "zh"
