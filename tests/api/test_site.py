"""A site served by two service processes on one store, on SQLite and on a real PostgreSQL:
any process serves any request (sessions, rate limits), an erasure on one stops matches
on the other at once, and eight writers at once leave one gap-free audit chain."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from facegate.analysis import FaceAnalyzer
from facegate.deployment import Deployment

from ..support.governed import add_purpose
from ..support.postgres import PostgresServer
from ..support.services import Service, start_serve
from ..support.staff import add_staff
from ..support.words import both

P = "access.office.entry"
RATE = 20
#: The bound docs/matching.md states for the background follower (seconds), with room
#: for a loaded test machine; identification itself is never behind (bound 0).
FOLLOW_BOUND = 5.0


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def site(store_backend: str, tmp_path: Path, analyzer: FaceAnalyzer,
         request: pytest.FixtureRequest) -> Iterator[tuple[Service, Service, dict[str, str],
                                                           Callable[[], Deployment]]]:
    """A store with a live identifying purpose and keys, served by two processes."""
    keys_file = tmp_path / "site.keys"
    if store_backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = server.create_database("site")
    else:
        database = str(tmp_path / "site.db")

    def open_store(create: bool = False) -> Deployment:
        return Deployment.open(database, keys=keys_file, analyzer=analyzer, create=create)

    with open_store(create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X", province=both("Shanghai"))
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        add_purpose(d, P)
        keys = {role: d.issue_api_key(role=role, label=role).secret
                for role in ("admin", "operator", "auditor")}
        keys["rate"] = d.issue_api_key(role="operator", label="rate").secret
        for i in range(8):
            keys[f"writer{i}"] = d.issue_api_key(role="operator", label=f"writer {i}").secret
    services = [start_serve(database, keys_file, tmp_path / f"serve-{n}.log",
                            "--rate", str(RATE), "--sweep-interval", "0") for n in "ab"]
    try:
        for s in services:
            s.wait_ready()
        yield services[0], services[1], keys, open_store
    finally:
        for s in services:
            s.stop()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _gallery_templates(metrics: str) -> float | None:
    found = re.search(r'facegate_gallery_templates\{[^}]*purpose="access\.office\.entry"[^}]*\} '
                      r'([0-9.e+]+)', metrics)
    return None if found is None else float(found.group(1))


@pytest.mark.both_stores
def test_two_processes_serve_one_site(site: tuple[Service, Service, dict[str, str],
                                                  Callable[[], Deployment]],
                                      faces: dict[str, Path],
                                      record_property: Callable[[str, object], None]) -> None:
    a, b, keys, open_store = site
    op = {"X-API-Key": keys["operator"]}
    admin = {"X-API-Key": keys["admin"]}

    # A session signed in on one process is accepted by the other.
    with open_store() as d:
        staff = add_staff(d, "li", "admin")
    with httpx.Client(base_url=a.base) as on_a:
        page = on_a.get("/login")
        signed = on_a.post("/login", data={**staff.form(), "csrf": _csrf(page.text)})
        assert signed.status_code == 303
        cookie = signed.cookies["facegate_session"]
    with httpx.Client(base_url=b.base, cookies={"facegate_session": cookie}) as on_b:
        dashboard = on_b.get("/dashboard")
        assert dashboard.status_code == 200 and "Sign in" not in dashboard.text
        assert on_b.post("/logout", data={"csrf": _csrf(dashboard.text)}).status_code == 303
    with httpx.Client(base_url=a.base, cookies={"facegate_session": cookie}) as on_a:
        assert on_a.get("/dashboard").status_code == 303  # signed out on B: out on A too

    # Rate limits are shared: both processes draw on one allowance per key.
    statuses: dict[str, list[int]] = {"a": [], "b": []}
    started = time.monotonic()
    for _ in range(15):
        for name, s in (("a", a), ("b", b)):
            statuses[name].append(httpx.get(f"{s.base}/v1/processor",
                                            headers={"X-API-Key": keys["rate"]}).status_code)
    elapsed = time.monotonic() - started
    allowed = sum(v.count(200) for v in statuses.values())
    refill = elapsed * RATE / 60.0 + 1
    assert allowed <= RATE + refill < 30
    assert 429 in statuses["a"] and 429 in statuses["b"]

    # An enrollment through A is matched through B; an erasure through A stops matches
    # through B at once, and B's index lets the subject go within the follower's bound.
    with httpx.Client(base_url=a.base, headers=op, timeout=120) as on_a, \
            httpx.Client(base_url=b.base, headers=op, timeout=120) as on_b:
        probe = {"purpose": P, "image": _b64(faces["obama2"])}
        assert on_b.post("/v1/identify", json=probe).json()["no_match"] is True
        sid = on_a.post("/v1/subjects", json={"age_band": "adult"}).json()["subject"]["id"]
        for scope in ("biometric", "transfer"):  # transfer: a central store's purposes (R8)
            given = on_a.post("/v1/consents", json={"subject": sid, "purpose": P,
                                                    "notice_version": 1, "scope": scope})
            assert given.status_code == 201, given.text
        assert on_a.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                             "image": _b64(faces["obama"])}).status_code == 201
        found = on_b.post("/v1/identify", json=probe).json()
        assert [c["subject"] for c in found["faces"][0]["candidates"]] == [sid]
        before = _gallery_templates(httpx.get(f"{b.base}/metrics").text)
        assert before is not None and before >= 1

        assert on_a.delete(f"/v1/subjects/{sid}", headers=admin).status_code == 200
        erased_at = time.monotonic()
        follow = None
        while time.monotonic() - erased_at < FOLLOW_BOUND:
            now = _gallery_templates(httpx.get(f"{b.base}/metrics").text)
            if now is not None and now < before:
                follow = time.monotonic() - erased_at
                break
            time.sleep(0.02)
        assert follow is not None, "B's index still held the erased subject"
        record_property("follow_seconds", round(follow, 3))
        for client in (on_b, on_a):
            assert client.post("/v1/identify", json=probe).json()["no_match"] is True

    # Eight writers at once, four on each process: one gap-free chain that verifies.
    with open_store() as d:
        head = d.audit_head()
    failures: list[int] = []

    def writer(i: int) -> None:
        s = a if i % 2 == 0 else b
        with httpx.Client(base_url=s.base, headers={"X-API-Key": keys[f"writer{i}"]},
                          timeout=60) as http:
            for _ in range(6):
                r = http.post("/v1/subjects", json={"age_band": "adult"})
                if r.status_code != 201:
                    failures.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    auditor = {"X-API-Key": keys["auditor"]}
    check = httpx.get(f"{b.base}/v1/audit/verify", headers=auditor).json()
    assert check["intact"] is True
    seqs: list[int] = []
    after = 0
    while True:
        page_ = httpx.get(f"{a.base}/v1/audit/events", headers=auditor,
                          params={"after": after, "limit": 1000}).json()
        seqs += [e["seq"] for e in page_["events"]]
        if page_["next_after"] is None:
            break
        after = page_["next_after"]
    assert seqs == list(range(1, len(seqs) + 1))
    with open_store() as d:
        written = [e for e in d.audit_events(after=head) if e.name == "subject-registered"]
        assert len(written) == 48
        assert d.verify_audit().entries == seqs[-1] == d.audit_head()
