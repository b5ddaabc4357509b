"""The README walkthrough runs end to end on a fresh store."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from facegate.demo.governed import run
from facegate.deployment import Deployment


def test_demo_walks_the_governed_flow(tmp_path: Path, faces: dict[str, Path],
                                      open_deployment: Callable[..., Deployment]) -> None:
    lines: list[str] = []
    data = faces["obama"].parents[4]
    status = run(data, echo=lines.append, workdir=tmp_path,
                 deployment_factory=lambda path: open_deployment(path.name))
    text = "\n".join(lines)
    assert status == 0, text
    for expected in (
        "processor: Example Office Ltd / 示例办公有限公司 under cn-2025",
        "purpose access.office.entry: notice v1, PIA signed, active",
        "obama2.jpg: match",
        "biden.jpg: no match",
        "refused: consent.missing: ",
        "[R2 cn-2025 Art. 6]",
        "route_to_alternative: staff badge with guard check",
        "withdrawn; 1 template(s) deleted",
        "verify refused: consent.withdrawn [R4 cn-2025 Art. 6; PIPL 15, 47]",
        "identify: no_match (gallery of 0)",
    ):
        assert expected in text, expected


def test_demo_without_shared_photos_uses_the_astronaut(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    monkeypatch.delenv("FACEGATE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run(tmp_path / "nothing", echo=lines.append) == 0
    text = "\n".join(lines)
    assert "enrolled from astronaut.png (scikit-image)" in text
    assert "astronaut.png mirrored (the same photo): match" in text
    assert "consent.withdrawn" in text


def test_demo_without_any_photos_says_what_it_needs(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    monkeypatch.delenv("FACEGATE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "skimage", None)  # as if the demo extra were missing
    assert run(tmp_path / "nothing", echo=lines.append) == 2
    assert "FACEGATE_DATA" in lines[0]
