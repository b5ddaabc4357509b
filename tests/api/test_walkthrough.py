"""docs/api.md's walkthrough, run as written: its shell blocks, in order, against the demo
service over HTTP, with the shared photos; every answer has exactly the fields of the body
the page shows under it (a list is compared by its first item; ``"…"`` stands for further
fields of the same shape, ``null`` under it for any)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from facegate.api import ApiSettings, create_app
from facegate.demo.service import prepare_demo
from facegate.deployment import Deployment

from ..conftest import REPO
from ..support.net import free_port

pytestmark = pytest.mark.shared_data

PAGE = REPO / "docs" / "api.md"
SECTION = "## A walkthrough: from consent to the documents"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
MORE = "…"


def walkthrough() -> list[tuple[str, str]]:
    """The section's fenced blocks, in order, as (language, text)."""
    page = PAGE.read_text("utf-8")
    start = page.index(SECTION)
    end = page.index("\n## ", start + len(SECTION))
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page[start:end])]


def steps() -> list[tuple[str, tuple[str, str] | None]]:
    """Each shell block with the block of what it answers, when the page shows one."""
    out: list[tuple[str, tuple[str, str] | None]] = []
    for lang, text in walkthrough():
        if lang == "bash":
            out.append((text, None))
        else:
            assert out and out[-1][1] is None, f"a {lang} block follows no command"
            out[-1] = (out[-1][0], (lang, text))
    return out


def same_shape(shown: Any, got: Any, where: str = "$") -> list[str]:
    """Where ``got`` differs from ``shown`` in its fields (not its values)."""
    if isinstance(shown, dict):
        if not isinstance(got, dict):
            return [f"{where}: an object is shown, {type(got).__name__} came"]
        more = MORE in shown
        named = set(shown) - {MORE}
        problems = [f"{where}.{k}: shown, not answered" for k in sorted(named - set(got))]
        if not more:
            problems += [f"{where}.{k}: answered, not shown" for k in sorted(set(got) - named)]
        for k in sorted(set(got)):
            pattern = shown.get(k, shown.get(MORE)) if (k in named or more) else None
            if k in named or (more and shown[MORE] is not None):
                problems += same_shape(pattern, got[k], f"{where}.{k}")
        return problems
    if isinstance(shown, list):
        if not isinstance(got, list):
            return [f"{where}: a list is shown, {type(got).__name__} came"]
        return same_shape(shown[0], got[0], f"{where}[0]") if shown and got else []
    if shown is None or got is None:
        return []
    kinds = (bool, (int, float), str)
    if not any(isinstance(shown, k) and isinstance(got, k) for k in kinds):
        return [f"{where}: {shown!r} is shown, {got!r} came"]
    return []


@pytest.fixture(scope="module")
def demo(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo deployment served over HTTP (calibrated on the sample staff photos alone, to
    be quick), its keys where the walkthrough reads them; yields the URL and the folder."""
    folder = tmp_path_factory.mktemp("walkthrough")
    data = folder / "data"
    data.mkdir()
    (data / "samples").symlink_to(shared / "samples")
    d = Deployment.open(folder / "facegate-demo.db", create=True)
    prepare_demo(d, folder / "facegate-demo.db.demo-keys.json", data=data, echo=lambda _: None)
    port = free_port()
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000), deployment=d)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", folder
    server.should_exit = True
    thread.join(timeout=15)
    d.close()


def test_the_walkthrough_runs_as_written_and_every_body_is_as_shown(
        demo: tuple[str, Path], shared: Path) -> None:
    url, folder = demo
    done = steps()
    assert len(done) >= 15
    script = "set -euo pipefail\n" + "".join(
        f"{command}\nprintf '\\n@@step {i}\\n'\n" for i, (command, _) in enumerate(done))
    run = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "BASE": url, "DATA": str(shared)})
    assert run.returncode == 0, run.stderr
    outputs = re.split(r"\n@@step \d+\n", run.stdout)[:-1]
    assert len(outputs) == len(done)
    problems: list[str] = []
    for i, ((command, shown), output) in enumerate(zip(done, outputs, strict=True)):
        if shown is None:
            continue
        lang, body = shown
        if lang == "json":
            got = json.loads(output)
            problems += [f"step {i} ({command.split()[-1]}): {p}"
                         for p in same_shape(json.loads(body), got)]
        else:  # lines of text (a status and type, the headers a document is served with)
            names = {line.split(":")[0] for line in output.splitlines()}
            problems += [f"step {i}: header {line.split(':')[0]} shown, not answered"
                         for line in body.splitlines() if line.split(":")[0] not in names]
    assert problems == []
    assert (folder / "probe.jpg").read_bytes().startswith(b"\xff\xd8")
    assert (folder / "notice-zh.pdf").read_bytes().startswith(b"%PDF")
    assert "staff door access" in (folder / "pia-en.html").read_text("utf-8")


def test_a_field_the_page_does_not_show_is_found() -> None:
    shown = {"case": {"id": "c", "decisions": [{"reviewer": "r"}], "detail": {MORE: None}}}
    got = {"case": {"id": "c", "decisions": [{"reviewer": "r", "at": "t"}], "status": "p",
                    "detail": {"anything": 1}}}
    assert same_shape(shown, got) == ["$.case.status: answered, not shown",
                                      "$.case.decisions[0].at: answered, not shown"]
    assert same_shape({"n": 1}, {"n": "one"}) == ["$.n: 1 is shown, 'one' came"]
