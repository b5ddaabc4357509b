"""Signed webhooks against a real local receiver: every event arrives with a valid
signature and no more than its audience may see; a receiver that is down gets the event
later; a service killed with SIGKILL delivers what was in its outbox after a restart,
with no event id twice."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from facegate.api.settings import ApiSettings
from facegate.deployment import Deployment
from facegate.events.signing import verify_signature

from ..support.governed import add_purpose
from ..support.net import free_port
from ..support.services import Service, start_with_settings
from ..support.words import both

P = "access.office.entry"


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: it keeps every delivery it gets."""

    port: int
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    made: list[Receiver] = []

    def make() -> Receiver:
        r = Receiver(port=free_port())
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


@dataclass
class Store:
    db: Path
    keys: dict[str, str]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = tmp_path / "events.db"
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X")
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        d.register_site(key="branch.lobby", name=both("Branch"), site_type="office")
        add_purpose(d, P, modes=("verify",))
        add_purpose(d, "branch.entry", site="branch.lobby", modes=("verify",))
        keys = {role: d.issue_api_key(role=role, label=role).secret
                for role in ("admin", "operator")}
    return Store(db=db, keys=keys)


def _service(store: Store, tmp_path: Path, name: str) -> Service:
    service = start_with_settings(
        ApiSettings(database=str(store.db), sweep_interval=0, webhook_retry_base=0.2,
                    webhook_retry_cap=0.5, webhook_attempts=1000, follow_interval=0.2),
        tmp_path / f"{name}.log")
    service.wait_ready()
    return service


def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def _register(http: httpx.Client, admin: dict[str, str], url: str, audience: str,
              **scope: Any) -> str:
    r = http.post("/v1/webhooks", json={"url": url, "audience": audience,
                                        "label": audience, **scope}, headers=admin)
    assert r.status_code == 201, r.text
    secret: str = r.json()["secret"]
    assert secret.startswith("whsec_")
    return secret


def _withdrawn_and_erased(http: httpx.Client, admin: dict[str, str],
                          purpose: str = P) -> str:
    """A subject who consents, withdraws and is erased: returns the subject's id."""
    sid: str = http.post("/v1/subjects", json={"age_band": "adult",
                                               "external_ref": "HR-0042"}).json()["subject"]["id"]
    assert http.post("/v1/consents", json={"subject": sid, "purpose": purpose,
                                           "notice_version": 1}).status_code == 201
    assert http.post("/v1/withdrawals", json={"subject": sid,
                                              "purpose": purpose}).status_code == 200
    assert http.delete(f"/v1/subjects/{sid}", headers=admin).status_code == 200
    return sid


def test_signed_events_by_audience_and_a_receiver_that_was_down(
        store: Store, tmp_path: Path, receivers: Callable[[], Receiver]) -> None:
    door, hr = receivers(), receivers()
    door.start()  # the HR system is down for now
    service = _service(store, tmp_path, "service")
    admin = {"X-API-Key": store.keys["admin"]}
    try:
        with httpx.Client(base_url=service.base, headers={"X-API-Key": store.keys["operator"]},
                          timeout=60) as http:
            door_secret = _register(http, admin, door.url, "door", purposes=[P])
            hr_secret = _register(http, admin, hr.url, "hr")
            assert http.post("/v1/webhooks", json={
                "url": door.url, "audience": "door", "label": "x",
                "types": ["subject.erased"]}, headers=admin).status_code == 400
            sid = _withdrawn_and_erased(http, admin)
            _withdrawn_and_erased(http, admin, purpose="branch.entry")  # outside door's scope

            _until(lambda: len(door.got) >= 1, "the door controller's event")
            time.sleep(1.0)  # anything else it would wrongly get has come by now
            assert [e["type"] for e in door.events()] == ["consent.withdrawn"]
            (headers, body), = door.got
            assert verify_signature(door_secret.encode(), body,
                                    headers["facegate-signature"])
            assert not verify_signature(hr_secret.encode(), body,
                                        headers["facegate-signature"])
            event = json.loads(body)
            assert headers["facegate-event-id"] == event["id"]
            assert event["data"] == {"purpose": P, "subject": sid, "scope": "biometric"}
            assert b"HR-0042" not in body  # no personal data beyond the pseudonymous id

            pending = http.get("/v1/webhooks", headers=admin).json()["webhooks"]
            assert {w["audience"]: w["outbox"]["pending"] for w in pending}["hr"] == 2
            hr.start()  # the HR system comes back: it gets both erasures, later
            _until(lambda: len(hr.got) == 2, "the HR system's events after it came back")
            for headers, body in hr.got:
                assert verify_signature(hr_secret.encode(), body, headers["facegate-signature"])
            erased = {e["data"]["subject"]: e for e in hr.events()
                      if e["type"] == "subject.erased"}  # retries may reorder them
            assert erased[sid]["data"] == {"subject": sid, "purposes": [P]}
            assert b"HR-0042" not in b"".join(body for _, body in hr.got)
    finally:
        service.stop()


def test_a_killed_service_delivers_its_outbox_after_a_restart_once(
        store: Store, tmp_path: Path, receivers: Callable[[], Receiver]) -> None:
    receiver = receivers()  # down while the events happen
    first = _service(store, tmp_path, "first")
    admin = {"X-API-Key": store.keys["admin"]}
    try:
        with httpx.Client(base_url=first.base, headers={"X-API-Key": store.keys["operator"]},
                          timeout=60) as http:
            secret = _register(http, admin, receiver.url, "audit")
            for _ in range(3):
                _withdrawn_and_erased(http, admin)

            def tried() -> bool:
                with Deployment.open(store.db) as d:
                    counts = d.connection.execute(
                        "SELECT count(*), min(attempts) FROM webhook_outbox").fetchone()
                return bool(counts[0] and counts[1] >= 1)

            _until(tried, "a first failed attempt of every event")
    finally:
        first.kill()
    with Deployment.open(store.db) as d:
        queued = {f"evt_{seq}" for (seq,) in d.connection.execute(
            "SELECT event_seq FROM webhook_outbox WHERE delivered_at IS NULL")}
    assert len(queued) >= 3 * 5  # subject, consent, token, withdrawal, erasure: each
    receiver.start()
    second = _service(store, tmp_path, "second")
    try:
        _until(lambda: {e["id"] for e in receiver.events()} >= queued,
               "every event of the killed service's outbox")
        time.sleep(1.0)
        ids = [e["id"] for e in receiver.events()]
        assert len(ids) == len(set(ids)), "an event id arrived twice"
        for headers, body in receiver.got:
            assert verify_signature(secret.encode(), body, headers["facegate-signature"])
    finally:
        second.stop()
