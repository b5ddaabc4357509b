"""The dashboard shows each camera in the key's scope with its state and counts, and
never a picture of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment

from ..support.staff import add_staff
from ..support.words import both
from ..web.test_sessions import sign_in
from .clips import Pass, encode, render
from .conftest import CAMERA


def _cameras_section(html: str) -> str:
    found = re.search(r'<section class="card" aria-labelledby="cameras-h">(.*?)</section>',
                      html, re.S)
    assert found, html[:500]
    return found.group(1)


def test_the_dashboard_shows_each_cameras_state_and_counts(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path,
        sprites: dict[str, Any]) -> None:
    d, _ = lobby
    clip = encode(render(sprites, [Pass("biden", 0, 0, 20), Pass("rudd", 1, 0, 20, False)],
                         24), tmp_path / "door.mp4")
    session = d.watch(CAMERA, source=str(clip))
    assert session.wait(30)
    d.register_site(key="branch.lobby", name=both("Branch lobby"), site_type="office")
    admin = add_staff(d, "li", "admin")
    elsewhere = add_staff(d, "desk", "operator", sites=["branch.lobby"])
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=d)
    with TestClient(app, follow_redirects=False) as c:
        sign_in(c, admin)
        page = c.get("/dashboard")
        assert page.status_code == 200
        cameras = _cameras_section(page.text)
        row = re.search(rf"<tr>\s*<td>{re.escape(CAMERA)}.*?</tr>", cameras, re.S)
        assert row, cameras
        cells = [re.sub(r"<[^>]+>", " ", c).split() for c in
                 re.findall(r"<td>(.*?)</td>", row.group(0), re.S)]
        assert cells[1] == ["hq.lobby"] and cells[3][0] == "ended"
        assert session.summary is not None
        frames = str(session.summary.counts["frames"])
        assert cells[4:] == [["2"], ["1"], ["1"], [frames]]  # tracks, matches, no match, frames
        assert not re.search(r"<(img|video|canvas)\b", cameras)
    with TestClient(app, follow_redirects=False) as c:
        sign_in(c, elsewhere)
        assert CAMERA not in _cameras_section(c.get("/dashboard").text)
