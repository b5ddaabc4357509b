"""A camera on a real network stream: an MPEG-TS served over HTTP by a server this test
starts on the loopback interface, which drops the first connection part way. The
source reconnects and the person on the stream is still decided; the URL's
credentials appear nowhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from facegate.cameras.pipeline import DecisionRecord, Outcome
from facegate.cameras.source import SourceSettings
from facegate.deployment import Deployment

from .clips import Pass, encode, render
from .conftest import CAMERA

FPS = 10
FRAMES = 36
PASSES = [Pass("obama", 0, 6, 32), Pass("lennon", 1, 6, 32, rightward=False)]


class _Live(BaseHTTPRequestHandler):
    """Sends the clip paced as a live camera would (real time); the first connection is
    cut after a third of it."""

    clip: bytes = b""
    seconds: float = 1.0
    served: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.served.append(self.path)
        first = len(self.served) == 1
        if len(self.served) > 2:  # the camera is off the air now
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.end_headers()
        data = self.clip
        cut = len(data) // 3 if first else len(data)
        step = max(188, len(data) // int(self.seconds * 20) // 188 * 188)
        started = time.monotonic()
        sent = 0
        try:
            while sent < cut:
                chunk = data[sent:min(cut, sent + step)]
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
                wait = started + self.seconds * sent / len(data) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
        except (BrokenPipeError, ConnectionResetError):
            return
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def server(tmp_path: Path, sprites: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    clip = encode(render(sprites, PASSES, FRAMES), tmp_path / "live.ts", fps=FPS,
                  container="mpegts")
    handler = type("Live", (_Live,), {"clip": clip.read_bytes(), "seconds": FRAMES / FPS,
                                       "served": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}", handler.served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_dropped_http_stream_is_reconnected_and_decided(
        lobby: tuple[Deployment, dict[str, str]], server: tuple[str, list[str]],
        caplog: pytest.LogCaptureFixture) -> None:
    d, ids = lobby
    address, served = server
    url = f"http://viewer:pa55word@{address}/live.ts?token=t0k3n"
    records: list[DecisionRecord] = []
    session = d.watch(CAMERA, source=url, on_decision=records.append,
                      source_settings=SourceSettings(backoff_first=0.3, read_timeout=3.0))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not (
            len(served) >= 2 and any(r.outcome is Outcome.MATCH for r in records)):
        time.sleep(0.2)
    status = session.status()
    summary = session.stop()
    assert summary is not None
    assert len(served) >= 2 and status.source.connections >= 2
    assert status.source.reconnects >= 1 and status.source.decoded > 0
    matched = [r.subject for r in records if r.outcome is Outcome.MATCH]
    assert matched and set(matched) == {ids["obama"]}  # the stranger never
    stopped = d.audit_events("stream-stopped")[-1]
    assert stopped.detail["reconnects"] >= 1
    assert stopped.detail["counts"]["matches"] == len(matched)
    shown = d.audit_events("stream-started")[-1].detail["source"]
    assert shown == f"http://viewer:***@{address}/live.ts?token=***"
    stored = b"".join(str(r).encode() for t in ("audit_events", "camera_streams", "cameras")
                      for r in d.connection.execute(f"SELECT * FROM {t}"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("pa55word", "t0k3n"):
        assert secret.encode() not in stored and secret not in logged
        assert secret not in repr(status.as_dict())
