"""``/v1/cameras``: register through the gate, start and stop a stream in the service,
list with state and counts; scopes through the one authorisation layer; the source's
credentials never answered."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment

from ..support.words import both
from .conftest import CAMERA, PURPOSE
from .test_network import server  # noqa: F401  (the fixture: a live HTTP stream)


def test_cameras_through_the_api(lobby: tuple[Deployment, dict[str, str]],
                                 server: tuple[str, list[str]]) -> None:  # noqa: F811
    d, _ = lobby
    address, _ = server
    admin = {"X-API-Key": d.issue_api_key(role="admin", label="admin").secret}
    operator = {"X-API-Key": d.issue_api_key(role="operator", label="desk").secret}
    d.register_site(key="branch.lobby", name=both("Branch lobby"), site_type="office")
    elsewhere = {"X-API-Key": d.issue_api_key(role="operator", label="other",
                                              sites=["branch.lobby"]).secret}
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000, rate_per_minute=100_000),
                     deployment=d)
    with TestClient(app) as client:
        refused = client.post("/v1/cameras", headers=admin, json={
            "id": "hq.changing-1", "site": "hq.lobby", "purposes": [PURPOSE],
            "placement": "changing_room"})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "site.private_space"
        assert refused.json()["error"]["details"]["rule"] == "R12"
        source = f"http://cam:s3cr3t@{address}/live.ts"
        made = client.post("/v1/cameras", headers=admin, json={
            "id": "hq.door-2", "site": "hq.lobby", "purposes": [PURPOSE], "source": source})
        assert made.status_code == 201, made.text
        assert made.json()["camera"]["source"] == f"http://cam:***@{address}/live.ts"
        assert made.json()["camera"]["state"] == "idle"
        assert client.post("/v1/cameras", headers=operator, json={
            "id": "hq.door-3", "site": "hq.lobby", "purposes": [PURPOSE]}).status_code == 403
        a_path = client.post("/v1/cameras", headers=admin, json={
            "id": "hq.door-3", "site": "hq.lobby", "purposes": [PURPOSE],
            "source": "/etc/passwd"})
        assert a_path.status_code == 400
        assert a_path.json()["error"]["code"] == "argument.invalid"

        assert client.post("/v1/cameras/hq.door-2/start",
                           headers=elsewhere).status_code == 403
        assert client.post("/v1/cameras/hq.door-2/start", headers=admin).status_code == 403
        started = client.post("/v1/cameras/hq.door-2/start", headers=operator)
        assert started.status_code == 200, started.text
        assert started.json()["camera"]["state"] in ("connecting", "running")
        assert client.post("/v1/cameras/hq.door-2/start",
                           headers=operator).json()["error"]["code"] == "camera.stream_conflict"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = client.get("/v1/cameras/hq.door-2", headers=operator).json()["camera"]
            if now["counts"].get("matches"):
                break
            time.sleep(0.3)
        stopped = client.post("/v1/cameras/hq.door-2/stop", headers=operator)
        assert stopped.status_code == 200
        body = stopped.json()
        assert body["counts"]["matches"] >= 1 and body["camera"]["state"] == "stopped"
        entry = d.audit_events("stream-stopped")[-1]
        assert entry.detail["session"] == body["session"]
        assert entry.detail["counts"] == body["counts"]
        listed = client.get("/v1/cameras", headers=operator).json()["cameras"]
        assert {c["id"] for c in listed} == {CAMERA, "hq.door-2"}
        assert client.get("/v1/cameras", headers=elsewhere).json()["cameras"] == []
        assert client.get("/v1/cameras/hq.nowhere", headers=operator).status_code == 404
        everything = str(listed) + made.text + started.text + stopped.text
        assert "s3cr3t" not in everything
        assert not [c for c in listed if set(c) & {"image", "pixels", "picture", "crop"}]
