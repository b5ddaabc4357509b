"""An uploaded face image never reaches the disk (R10, docs/storage.md: no image is
written without its separate consent).

Found: Starlette spools a multipart part over 1 MiB to a temporary file (unlinked, but
on disk and readable through the process while it is open). Now every part is kept in
memory up to the body limit: during a 10 MiB upload, streamed to the real server, no
file of the process is open in the temporary directory.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from facegate.api import ApiSettings, create_app
from facegate.deployment import Deployment

from ..support.governed import consent
from ..support.net import free_port

PROC_FDS = Path("/proc/self/fd")


def _open_temp_files(temp: Path) -> list[str]:
    """What this process holds open in the temporary directory (unlinked files too)."""
    found = []
    for fd in PROC_FDS.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(temp) + "/"):
            found.append(target)
    return found


@pytest.fixture
def server(books: Deployment) -> Iterator[str]:
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=books)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False, lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


@pytest.mark.skipif(not PROC_FDS.is_dir(), reason="needs /proc/self/fd (Linux)")
def test_r10_a_10_mib_upload_stays_in_memory(server: str, books: Deployment) -> None:
    temp = Path(tempfile.gettempdir()).resolve()
    operator = books.issue_api_key(role="operator", label="desk").secret
    subject = books.register_subject(age_band="adult").id
    consent(books, subject, "access.office.entry")
    before = set(_open_temp_files(temp))
    boundary = "facegate-upload-test"
    image = os.urandom(10 * 1024 * 1024)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\n"
            f"{subject}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"purpose\"\r\n\r\naccess.office.entry\r\n--{boundary}\r\n"
            "Content-Disposition: form-data; name=\"image\"; filename=\"face.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    seen: list[str] = []
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield head
        step = 256 * 1024
        for i in range(0, len(image), step):
            yield image[i:i + step]
            sent = i + step
            if sent >= 2 * 1024 * 1024:  # well past Starlette's 1 MiB spool threshold
                time.sleep(0.01)  # let the server take the chunk in
                seen.extend(set(_open_temp_files(temp)) - before)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = httpx.post(f"{server}/v1/enroll", content=body(), timeout=60, headers={
        "X-API-Key": operator, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert sent >= len(image)
    assert r.status_code == 422 and r.json()["error"]["code"] == "image.undecodable"
    assert seen == []
