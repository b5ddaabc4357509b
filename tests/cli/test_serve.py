"""``facegate serve`` as users run it: a real uvicorn process on loopback, structured
logs without biometric data, readiness, a graceful stop; and the demo deployment."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import httpx
import pyotp
import pytest
from click.testing import CliRunner

from facegate.cli import cli
from facegate.demo.service import DEMO_PURPOSE, prepare_demo, staff_file
from facegate.deployment import Deployment

from ..support.net import free_port
from ..support.staff import add_staff
from ..support.words import both


def _wait(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the service did not come up")


def test_serve_runs_logs_without_biometric_data_and_stops_gracefully(tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "typo.db")])
    assert missing.exit_code == 1 and "storage.not_found" in missing.stderr
    assert not (tmp_path / "typo.db").exists()  # only init (or --demo) makes a store
    assert CliRunner().invoke(cli, ["init", "--db", str(tmp_path / "svc.db")]).exit_code == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
         "--db", str(tmp_path / "svc.db"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(base)
        not_ready = httpx.get(f"{base}/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["error"]["code"] == "service.not_ready"
        refused = httpx.post(f"{base}/v1/subjects/s_0123456789abcdef/x", json={})
        assert refused.status_code == 404
        denied = httpx.get(f"{base}/v1/subjects/s_0123456789abcdef/access-report",
                           headers={"X-API-Key": "fg_wrong"})
        assert denied.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn finishes the requests in flight and the shutdown, then re-raises the signal
    assert server.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [e for e in lines if e.get("event") == "request"]
    assert {e["status"] for e in requests} >= {200, 503, 404, 401}
    assert all(set(e) == {"event", "request_id", "method", "route", "status", "ms", "key"}
               for e in requests)
    assert "/v1/subjects/{subject}/access-report" in {e["route"] for e in requests}
    assert "s_0123456789abcdef" not in err and "fg_wrong" not in err
    assert (tmp_path / "svc.db.keys").stat().st_mode & 0o077 == 0


@dataclass
class DemoStore:
    """The demo deployment, set up once for this module (its calibration on the East-Asian
    set describes 1,432 photos)."""

    path: Path
    keys_file: Path
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> DemoStore:
    folder = tmp_path_factory.mktemp("demo")
    keys_file = folder / "demo.db.demo-keys.json"
    with Deployment.open(folder / "demo.db", create=True) as d:
        secrets = prepare_demo(d, keys_file, data=shared, echo=lambda _: None)
    return DemoStore(path=folder / "demo.db", keys_file=keys_file, secrets=secrets)


def test_the_demo_deployment_is_ready_to_use(demo_store: DemoStore, shared: Path) -> None:
    lines: list[str] = []
    with Deployment.open(demo_store.path) as d:
        assert d.purpose(DEMO_PURPOSE).status.value == "active"
        assert {k.role.value for k in d.api_keys()} == {"admin", "operator", "reviewer",
                                                          "auditor"}
        assert d.review_settings(DEMO_PURPOSE) is not None
        again = prepare_demo(d, demo_store.keys_file, data=shared, echo=lines.append)
    assert again == demo_store.secrets and len(again) == 5
    assert demo_store.keys_file.stat().st_mode & 0o777 == 0o600
    people = staff_file(demo_store.keys_file)
    assert people.stat().st_mode & 0o777 == 0o600
    staff = json.loads(people.read_text("utf-8"))
    assert {a["role"] for a in staff.values()} == {"admin", "reviewer", "auditor"}
    with Deployment.open(demo_store.path) as d:
        now = time.time()
        wang = staff["wang"]
        assert d.sign_in_staff(name="wang", password=wang["password"], client="t", now=now,
                               code=pyotp.TOTP(wang["totp_secret"]).at(now)).role == "reviewer"
        authorised = {e.detail["reviewer"] for e in d.audit_events("reviewer-authorised")}
        assert {"staff:wang", "staff:chen"} <= authorised
    assert "already set up" in lines[-1]


def test_the_demo_deployment_uses_the_arcface_pack_when_installed(
        demo_store: DemoStore, faces: dict[str, Path]) -> None:
    import base64

    from fastapi.testclient import TestClient

    from facegate.api import ApiSettings, create_app
    from facegate.calibration.shipped import shipped_calibration

    from ..support.engines import pack_engine
    from ..support.governed import consent

    pack_engine("faceplugin-arcface-v1")  # skips, saying how to install it, when absent
    with Deployment.open(demo_store.path) as d:
        purpose = d.purpose(DEMO_PURPOSE)
        assert purpose.pack == "faceplugin-arcface-v1"
        assert purpose.population == "east-asian-adults"
        # calibrated on the people it serves: the East-Asian set's every pair at FMR 0.1%,
        # the pipeline of the shipped calibration (which rounds down to 4 decimals)
        card = d.model_card(DEMO_PURPOSE)
        assert card["calibration"]["population"].startswith("east-asian-adults")
        shipped = shipped_calibration("faceplugin-arcface-v1", "1.0", "east-asian-adults")
        assert shipped is not None
        assert shipped.threshold <= card["threshold"] < shipped.threshold + 1e-4
        subject = d.register_subject(age_band="adult")
        consent(d, subject.id, DEMO_PURPOSE)
        d.enroll(subject=subject.id, purpose=DEMO_PURPOSE, image=faces["obama"])
        app = create_app(ApiSettings(), deployment=d)
        with TestClient(app) as client:
            answer = client.post("/v1/verify", headers={
                "X-API-Key": demo_store.secrets["lobby door controller"]}, json={
                "subject": subject.id, "purpose": DEMO_PURPOSE,
                "image": base64.b64encode(faces["obama2"].read_bytes()).decode()})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["model"]["pack"] == "faceplugin-arcface-v1"
    assert body["matched"] is True and body["decided"] is True


def test_api_keys_from_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from facegate.cli import cli

    db = str(tmp_path / "k.db")
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Ex"), contact=both("dpo@example.com"), credit_code="1")
    issued = CliRunner().invoke(cli, ["api-key", "issue", "--role", "auditor", "--label",
                                      "audit firm", "--db", db])
    assert issued.exit_code == 0, issued.output
    key_id, role, secret = issued.stdout.strip().split("\t")
    assert role == "auditor" and secret.startswith("fg_")
    listed = CliRunner().invoke(cli, ["api-key", "list", "--db", db]).stdout
    assert f"{key_id}\tauditor\tlive" in listed and secret not in listed
    assert CliRunner().invoke(cli, ["api-key", "revoke", key_id, "--db", db]).exit_code == 0
    assert f"{key_id}\tauditor\trevoked" in CliRunner().invoke(
        cli, ["api-key", "list", "--db", db]).stdout
    unknown = CliRunner().invoke(cli, ["api-key", "revoke", "k_nope", "--db", db])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("facegate: registry.not_found")


def test_no_command_shadows_another() -> None:
    from facegate.cli import cli

    keys, api_key = cli.commands["keys"], cli.commands["api-key"]
    assert isinstance(keys, click.Group) and isinstance(api_key, click.Group)
    assert "rotate" in keys.commands and {"issue", "list", "revoke"} <= set(api_key.commands)


@pytest.mark.both_stores
def test_serve_with_two_workers_shares_the_rate_limit_and_sessions(
        store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """``--workers 2``: two processes on one store, on SQLite and on PostgreSQL; the key's
    allowance and the browser's session hold whichever process answers."""
    keys = tmp_path / "svc.keys"
    if store_backend == "postgresql":
        database = request.getfixturevalue("postgres_server").create_database("workers")
    else:
        database = str(tmp_path / "svc.db")
    with Deployment.open(database, keys=keys, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X")
        secret = d.issue_api_key(role="admin", label="admin").secret
        admin = add_staff(d, "li", "admin")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
         "--db", database, "--keys", str(keys), "--port", str(port), "--workers", "2",
         "--rate", "10", "--sweep-interval", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait(base)
        started = time.monotonic()
        statuses = []
        for _ in range(24):
            with httpx.Client(base_url=base) as fresh:  # a new connection: any worker
                statuses.append(fresh.get("/v1/processor",
                                          headers={"X-API-Key": secret}).status_code)
        elapsed = time.monotonic() - started
        assert statuses.count(200) <= 10 + elapsed * 10 / 60 + 1
        assert 429 in statuses
        with httpx.Client(base_url=base) as browser:
            page = browser.get("/login")
            token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            signed = browser.post("/login", data={**admin.form(), "csrf": token})
            assert signed.status_code == 303
        cookie = signed.cookies["facegate_session"]
        for _ in range(6):
            with httpx.Client(base_url=base, cookies={"facegate_session": cookie}) as fresh:
                assert fresh.get("/dashboard").status_code in (200, 429)
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert err.count("Application startup complete") == 2
