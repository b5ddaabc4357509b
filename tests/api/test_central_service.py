"""Central mode through the service: two ``facegate serve`` processes on one real
PostgreSQL. An enrollment through one is matchable through the other; an erasure
through one stops matches on both at their next request."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from facegate.analysis import FaceAnalyzer
from facegate.deployment import Deployment

from ..support.governed import add_purpose
from ..support.net import free_port
from ..support.postgres import PostgresServer
from ..support.words import both

P = "access.office.entry"



@pytest.fixture
def two_services(postgres_server: PostgresServer, tmp_path: Path,
                 analyzer: FaceAnalyzer) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two service processes on one fresh database; yields their URLs and keys by role."""
    url = postgres_server.create_database("service")
    keys = tmp_path / "central.keys"
    with Deployment.open(url, keys=keys, analyzer=analyzer, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X", province=both("Shanghai"))
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        add_purpose(d, P)
        assert d.purpose(P).storage_mode == "central"
        secrets = {role: d.issue_api_key(role=role, label=role).secret
                   for role in ("admin", "operator")}
    servers, bases = [], []
    for _ in range(2):
        port = free_port()
        servers.append(subprocess.Popen(
            [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
             "--database", url, "--keys", str(keys), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                pytest.fail(f"{base} did not become ready")
        yield bases[0], bases[1], secrets
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.communicate(timeout=30)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_enroll_on_one_match_on_the_other_erase_on_one_stops_both(
        two_services: tuple[str, str, dict[str, str]], faces: dict[str, Path]) -> None:
    a, b, keys = two_services
    op = {"X-API-Key": keys["operator"]}
    with httpx.Client(base_url=a, headers=op, timeout=120) as on_a, \
            httpx.Client(base_url=b, headers=op, timeout=120) as on_b:
        assert on_b.post("/v1/identify", json={"purpose": P, "image": _b64(faces["obama2"])}
                         ).json()["no_match"] is True  # B builds its (empty) index first
        sid = on_a.post("/v1/subjects", json={"age_band": "adult"}).json()["subject"]["id"]
        for scope in ("biometric", "transfer"):
            given = on_a.post("/v1/consents", json={"subject": sid, "purpose": P,
                                                    "notice_version": 1, "scope": scope})
            assert given.status_code == 201, given.text
        enrolled = on_a.post("/v1/enroll", json={"subject": sid, "purpose": P,
                                                 "image": _b64(faces["obama"])})
        assert enrolled.status_code == 201, enrolled.text
        found = on_b.post("/v1/identify", json={"purpose": P, "image": _b64(faces["obama2"])})
        assert [c["subject"] for c in found.json()["faces"][0]["candidates"]] == [sid]
        verified = on_b.post("/v1/verify", json={"subject": sid, "purpose": P,
                                                 "image": _b64(faces["obama2"])})
        assert verified.json()["matched"] is True

        erased = on_a.delete(f"/v1/subjects/{sid}", headers={"X-API-Key": keys["admin"]})
        assert erased.status_code == 200
        for client in (on_b, on_a):
            again = client.post("/v1/identify", json={"purpose": P,
                                                      "image": _b64(faces["obama2"])})
            assert again.json()["no_match"] is True
        refused = on_b.post("/v1/verify", json={"subject": sid, "purpose": P,
                                                "image": _b64(faces["obama2"])})
        assert refused.status_code in (403, 404)
        audit = on_b.get("/v1/audit/verify", headers={"X-API-Key": keys["admin"]}).json()
        assert audit["intact"] is True
