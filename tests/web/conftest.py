"""The web under test: the real service (uvicorn on 127.0.0.1, a free port) over a real
deployment, and Debian's chromium driven by Playwright with a fake camera that plays a
video made from a real face photo.

Browser tests skip with the reason when ``/usr/bin/chromium``, Playwright's Python
client or ``../shared/data`` is absent. Screenshots go to ``$FACEGATE_ARTIFACTS``
(default: the test's ``tmp_path``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment
from facegate.locale import translate

from ..support.camera import fake_camera_video
from ..support.data import shared_data_dir
from ..support.net import free_port
from ..support.staff import STAFF_PASSWORD, Staff

CHROMIUM = Path("/usr/bin/chromium")
PHOTO = "samples/identity/face_recognition/examples/obama.jpg"


@dataclass
class Web:
    """A running service: its base URL, deployment, one key per machine role (for the API
    and the kiosk device) and one staff account per role."""

    url: str
    deployment: Deployment
    keys: dict[str, str]
    staff: dict[str, Staff]


def web_staff(d: Deployment) -> dict[str, Staff]:
    """Staff accounts for the web: admin, auditor, an operator and two reviewers (Wang,
    Chen)."""
    people = {"admin": ("li", "Li Admin", "admin"), "auditor": ("zhao", "Zhao Audit", "auditor"),
              "operator": ("desk", "Front Desk", "operator"),
              "reviewer": ("wang", "Wang Fang", "reviewer"),
              "reviewer2": ("chen", "Chen Jing", "reviewer")}
    staff = {}
    for who, (name, display, role) in people.items():
        made = d.add_staff(name=name, display_name=display, role=role, password=STAFF_PASSWORD)
        staff[who] = Staff(name=name, password=STAFF_PASSWORD, totp_secret=made.totp_secret)
    return staff



def web_keys(d: Deployment) -> dict[str, str]:
    """Keys for the web: admin, a kiosk operator scoped to the door purpose, two
    reviewers authorised for it, an auditor."""
    keys = {"admin": d.issue_api_key(role="admin", label="Office admin").secret,
            "auditor": d.issue_api_key(role="auditor", label="External auditor").secret,
            "kiosk": d.issue_api_key(role="operator", label="Lobby kiosk",
                                     purposes=["access.office.entry"]).secret}
    for name, label in (("reviewer", "Reviewer Wang"), ("reviewer2", "Reviewer Chen")):
        issued = d.issue_api_key(role="reviewer", label=label)
        keys[name] = issued.secret
    return keys


@pytest.fixture
def serve() -> Iterator[Callable[[Deployment], str]]:
    """Serve a deployment over HTTP on a free local port; returns the base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(d: Deployment) -> str:
        port = free_port()
        app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=d)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False,
                                               lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def web(books: Deployment, serve: Callable[[Deployment], str]) -> Web:
    """The ``books`` deployment (two active purposes at hq.lobby) served over HTTP."""
    keys = web_keys(books)
    return Web(url=serve(books), deployment=books, keys=keys, staff=web_staff(books))


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: ``$FACEGATE_ARTIFACTS`` or the test's ``tmp_path``."""
    where = Path(os.environ.get("FACEGATE_ARTIFACTS") or tmp_path / "artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture(scope="session")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake camera's video, made from a real face photo of the shared data."""
    root = shared_data_dir()
    if root is None or not (root / PHOTO).is_file():
        pytest.skip("the fake camera needs a real face photo from ../shared/data "
                    "(set FACEGATE_DATA)")
    return fake_camera_video(root / PHOTO, tmp_path_factory.mktemp("camera") / "face.y4m")


@pytest.fixture(scope="session")
def browser(camera_video: Path) -> Iterator[Any]:
    """Debian's headless chromium with the fake camera; never a downloaded browser."""
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(scripts/test.sh installs it with apt-get)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python client is not installed (the test extra has it)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    executable = str(CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium"))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_video}"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages in fresh browser contexts (no shared cookies), closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(90_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def sign_in(page: Any, url: str, who: Staff | str, next_path: str = "",
            lang: str = "en") -> None:
    """Sign in on the web's sign-in page, in ``lang`` (chosen with the language switch
    first, its words from the catalog): a staff account (name, password, TOTP code), or
    a kiosk device with its operator key (a ``str``)."""
    login = "/login" + (f"?next={next_path}" if next_path else "")
    if lang != "en":
        page.goto(f"{url}/language?to={lang}&back={quote(login, safe='')}")
    else:
        page.goto(f"{url}{login}")

    def w(words: str) -> str:
        return translate(words, lang)

    if isinstance(who, str):
        page.get_by_text(w("Set up a kiosk device")).click()
        page.get_by_label(w("Device key")).fill(who)
        page.get_by_role("button", name=w("Sign in the device")).click()
    else:
        page.get_by_label(w("Account name")).fill(who.name)
        page.get_by_label(w("Password")).fill(who.password)
        page.get_by_label(w("Authenticator code")).fill(who.code())
        page.get_by_role("button", name=w("Sign in"), exact=True).click()
    page.wait_for_load_state()


def shot(page: Any, artifacts: Path, name: str) -> Path:
    """A full-page screenshot of ``page`` as ``name.png`` in ``artifacts``."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


BIOMETRIC_EVENTS = re.compile(r"^(enroll|verify|identify|identification-session-.*|"
                              r"capture-guidance|liveness-.*|export)$")
