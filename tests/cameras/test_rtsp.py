"""A camera on a real RTSP stream: GStreamer's RTSP server (Debian's packages), started
by this test as a process of the system's Python, serves a clip made now; the camera
reads ``rtsp://...`` through PyAV, decides the enrolled person and never the stranger,
and when the server stops and comes back on the same port the stream is reconnected
and decided again. The URL's credentials appear nowhere."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from facegate.cameras.pipeline import DecisionRecord, Outcome
from facegate.cameras.source import SourceSettings
from facegate.deployment import Deployment

from .clips import Pass, encode, render
from .conftest import CAMERA

SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
PASSES = [Pass("obama", 0, 3, 23), Pass("lennon", 1, 3, 23, rightward=False)]
FRAMES = 26
USER, PASSWORD = "viewer", "rtsp-s3cret"


def _reason_missing() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"no {SYSTEM_PYTHON} to run GStreamer's RTSP server"
    probe = subprocess.run([SYSTEM_PYTHON, str(SERVER), "--probe"], capture_output=True,
                           text=True, timeout=60, check=False)
    if probe.returncode != 0:
        return ((probe.stderr.strip() or "GStreamer's RTSP server cannot run")
                + " (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
                "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def rtsp(tmp_path: Path, sprites: dict[str, Any]) -> Iterator[tuple[str, Callable[[], None],
                                                                     Callable[[], None]]]:
    """The clip served at ``rtsp://viewer:...@127.0.0.1:PORT/lobby``, with ``stop`` and
    ``start`` for the server process."""
    missing = _reason_missing()
    if missing is not None:
        pytest.skip(missing)
    clip = encode(render(sprites, PASSES, FRAMES), tmp_path / "lobby.mp4", fps=10)
    port = _free_port()
    running: list[subprocess.Popen[str]] = []

    def start() -> None:
        proc = subprocess.Popen([SYSTEM_PYTHON, str(SERVER), str(port), "/lobby", str(clip),
                                 USER, PASSWORD], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"the RTSP server did not start: {err}")
        running.append(proc)

    def stop() -> None:
        while running:
            proc = running.pop()
            proc.terminate()
            proc.communicate(timeout=10)  # waits, and closes its pipes

    start()
    try:
        yield f"rtsp://{USER}:{PASSWORD}@127.0.0.1:{port}/lobby", stop, start
    finally:
        stop()


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_an_rtsp_stream_is_decided_and_reconnected_after_its_server_restarts(
        lobby: tuple[Deployment, dict[str, str]],
        rtsp: tuple[str, Callable[[], None], Callable[[], None]],
        caplog: pytest.LogCaptureFixture) -> None:
    d, ids = lobby
    url, stop, start = rtsp
    records: list[DecisionRecord] = []
    session = d.watch(CAMERA, source=url, on_decision=records.append,
                      source_settings=SourceSettings(backoff_first=0.2, backoff_cap=1.0,
                                                     open_timeout=5.0, read_timeout=3.0))
    try:
        assert _until(lambda: any(r.outcome is Outcome.MATCH for r in records), 40), \
            session.status().as_dict()
        stop()  # the server goes away
        down = time.monotonic()
        assert _until(lambda: not session.status().source.connected, 20)
        before = session.status().source.connections
        start()  # and comes back on the same port
        assert _until(lambda: session.status().source.connections > before, 30)
        assert _until(lambda: any(r.outcome is Outcome.MATCH and r.first_received > down
                                  for r in records), 40), session.status().as_dict()
        status = session.status()
    finally:
        summary = session.stop()
    assert summary is not None
    assert status.source.reconnects >= 1
    matched = {r.subject for r in records if r.outcome is Outcome.MATCH}
    assert matched == {ids["obama"]}  # the stranger never
    stopped = d.audit_events("stream-stopped")[-1]
    assert stopped.detail["reconnects"] >= 1 and stopped.detail["counts"]["matches"] >= 2
    shown = d.audit_events("stream-started")[-1].detail["source"]
    assert shown == url.replace(PASSWORD, "***")
    stored = b"".join(str(r).encode() for t in ("audit_events", "camera_streams", "cameras")
                      for r in d.connection.execute(f"SELECT * FROM {t}"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD.encode() not in stored and PASSWORD not in logged
    assert PASSWORD not in repr(status.as_dict())
