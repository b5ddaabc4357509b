"""``facegate camera register|list`` and ``facegate watch SOURCE --camera ID``: refusals in
one line, a status line while it runs, the session's counts at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.deployment import Deployment

from .clips import Pass, encode, render
from .conftest import CAMERA, ENROLLED, PURPOSE


def test_register_watch_and_list_through_the_cli(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path, arcface: FaceAnalyzer,
        sprites: dict[str, Any], identity: Path) -> None:
    _, ids = lobby
    clip = encode(render(sprites, [Pass("biden", 0, 0, 20), Pass("rudd", 1, 0, 20, False)],
                         24), tmp_path / "door.mp4")
    db = str(tmp_path / "facegate.db")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", db], obj={"analyzer": arcface})

    # the CLI runs on the system clock, after the fixture's templates have expired:
    # enroll again through it
    assert run("enroll", "--subject", ids["biden"], "--purpose", PURPOSE,
               str(identity / ENROLLED["biden"][0])).exit_code == 0
    refused = run("camera", "register", "hq.changing-1", "--site", "hq.lobby", "--purpose",
                  PURPOSE, "--placement", "changing_room")
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("facegate: site.private_space: ")
    assert "[R12 cn-2025" in refused.stderr
    added = run("camera", "register", "hq.side-1", "--site", "hq.lobby", "--purpose", PURPOSE,
                "--source", "rtsp://op:hunter2@10.1.2.3/main")
    assert added.exit_code == 0
    assert added.stdout == (f"camera hq.side-1 registered at hq.lobby for {PURPOSE} "
                            "(rtsp://op:***@10.1.2.3/main)\n")

    watched = run("watch", str(clip), "--camera", CAMERA, "--interval", "0.5")
    assert watched.exit_code == 0, watched.output
    assert f"{CAMERA}: running, " in watched.stderr and " fps, " in watched.stderr
    assert watched.stdout.startswith(f"camera {CAMERA} session ")
    assert "source-ended: " in watched.stdout and "2 tracks, 1 matches, 1 no match" in \
        watched.stdout
    listed = run("camera", "list", "--json")
    states = {s["id"]: s for s in json.loads(listed.stdout)}
    assert states[CAMERA]["state"] == "ended" and states[CAMERA]["counts"]["matches"] == 1
    assert states["hq.side-1"]["source"] == "rtsp://op:***@10.1.2.3/main"
    assert "hunter2" not in listed.stdout + added.stdout
    missing = run("watch", str(clip), "--camera", "hq.nowhere")
    assert missing.exit_code == 1 and missing.stderr.startswith("facegate: camera.not_found: ")


@pytest.mark.parametrize("source", ["ftp://x/y", "rtsp://"])
def test_watch_refuses_an_odd_source_in_one_line(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path, arcface: FaceAnalyzer,
        source: str) -> None:
    result = CliRunner().invoke(cli, ["watch", source, "--camera", CAMERA, "--db",
                                      str(tmp_path / "facegate.db")], obj={"analyzer": arcface})
    assert result.exit_code == 1 and result.stderr.startswith("facegate: argument.invalid: ")
