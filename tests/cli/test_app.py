"""The CLI on real photos and on bad input: decisions printed, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.calibration.shipped import shipped_calibration
from facegate.cli import cli
from facegate.engine.packs import get_pack
from facegate.engine.selection import best_pack

EXAMPLES = "identity/face_recognition/examples"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_compare_same_person(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["compare", str(samples / f"{EXAMPLES}/obama.jpg"),
                                 str(samples / f"{EXAMPLES}/obama2.jpg")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("same person: distance ")
    assert "<= threshold" in result.stdout


def test_compare_different_people(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["compare", str(samples / f"{EXAMPLES}/obama.jpg"),
                                 str(samples / f"{EXAMPLES}/biden.jpg"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["same_person"] is False
    assert out["distance"] > out["threshold"]
    # the best-measured installed pack, at its shipped calibration for East-Asian adults
    default = best_pack("east-asian-adults")
    shipped = shipped_calibration(default, get_pack(default).version, "east-asian-adults")
    assert out["pack"] == default and shipped is not None
    assert out["threshold"] == shipped.threshold
    pinned = json.loads(runner.invoke(cli, [
        "compare", str(samples / f"{EXAMPLES}/obama.jpg"), str(samples / f"{EXAMPLES}/biden.jpg"),
        "--pack", "dlib-resnet-v1", "--json"]).stdout)
    assert pinned["pack"] == "dlib-resnet-v1" and pinned["same_person"] is False


def test_compare_on_a_text_file_is_one_line_and_non_zero(runner: CliRunner, samples: Path,
                                                          tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a photo\n")
    result = runner.invoke(cli, ["compare", str(text), str(samples / f"{EXAMPLES}/obama.jpg")])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("facegate: image.undecodable: ")
    assert "Traceback" not in result.output


def test_compare_with_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["compare", str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")])
    assert result.exit_code == 1
    assert result.stderr.startswith("facegate: image.not_found: ")


def test_detect_many_files_reports_each_and_fails_on_the_bad_one(
        runner: CliRunner, samples: Path, tmp_path: Path) -> None:
    bad = tmp_path / "empty.jpg"
    bad.write_bytes(b"")
    paths = [str(samples / f"{EXAMPLES}/two_people.jpg"), str(bad),
             str(samples / f"{EXAMPLES}/obama.jpg")]
    result = runner.invoke(cli, ["detect", *paths, "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert [len(r.get("result", [])) for r in out] == [2, 0, 1]
    assert out[1]["error"]["code"] == "image.empty"


def test_detect_plain_output(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["detect", str(samples / f"{EXAMPLES}/two_people.jpg")])
    assert result.exit_code == 0
    assert "2 face(s)" in result.stdout


def test_embed_json_carries_the_vector_and_pack(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["embed", str(samples / f"{EXAMPLES}/obama.jpg"),
                                 "--pack", "dlib-resnet-v1", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    face = out["result"][0]
    assert len(face["descriptor"]) == 128
    assert face["pack"] == "dlib-resnet-v1" and face["pack_version"] == "1.0"
    assert out["pack"] == "dlib-resnet-v1"


def test_every_answer_names_the_pack_it_used(runner: CliRunner, samples: Path) -> None:
    photo = str(samples / f"{EXAMPLES}/obama.jpg")
    default = best_pack("east-asian-adults")
    for command in ("detect", "quality", "embed"):
        plain = runner.invoke(cli, [command, photo])
        assert plain.exit_code == 0 and plain.stdout.rstrip().endswith(f"[{default}]")
        as_json = json.loads(runner.invoke(cli, [command, photo, "--json"]).stdout)
        assert as_json["pack"] == default


def test_quality_refuses_a_group_photo_with_its_reason(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["quality", str(samples / f"{EXAMPLES}/two_people.jpg"),
                                 str(samples / f"{EXAMPLES}/obama.jpg")])
    assert result.exit_code == 3, "a refused image has its own exit status"
    lines = result.stdout.strip().splitlines()
    assert "refused: multiple_faces [" in lines[0]
    assert ": ok [" in lines[1]


def test_bad_option_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["detect", "x.jpg", "--detector", "magic"])
    assert result.exit_code == 2


def test_demo_runs_offline(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "1. Detect and check quality" in result.stdout
    assert "refused: low_sharpness" in result.stdout
    assert "image.undecodable" in result.stdout
    assert "consent.missing" in result.stdout and "route_to_alternative" in result.stdout


def test_without_the_arcface_pack_it_runs_on_dlib_and_says_so(
        runner: CliRunner, samples: Path, tmp_path: Path) -> None:
    """A plain pip install: no pack installed under the model cache."""
    from facegate.engine.model_cache import cache_dir

    bare = tmp_path / "cache" / "facegate"
    bare.mkdir(parents=True)
    for converted in cache_dir().glob("*.*"):  # dlib's converted models, not the packs
        (bare / converted.name).symlink_to(converted)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    photos = [str(samples / f"{EXAMPLES}/obama.jpg"), str(samples / f"{EXAMPLES}/obama2.jpg")]
    compared = runner.invoke(cli, ["compare", *photos, "--json"], env=env)
    assert compared.exit_code == 0, compared.output
    out = json.loads(compared.stdout)
    shipped = shipped_calibration("dlib-resnet-v1", "1.0", "east-asian-adults")
    assert shipped is not None
    assert out["pack"] == "dlib-resnet-v1" and out["threshold"] == shipped.threshold
    assert out["same_person"] is True
    detected = json.loads(runner.invoke(cli, ["detect", photos[0], "--json"], env=env).stdout)
    assert detected["pack"] == "dlib-resnet-v1"
    listed = runner.invoke(cli, ["models", "list"], env=env).stdout
    assert "faceplugin-arcface-v1 1.0 (not installed: run facegate models install" in listed


def test_detect_prints_each_box_as_a_corner_and_a_size(runner: CliRunner, samples: Path) -> None:
    result = runner.invoke(cli, ["detect", str(samples / f"{EXAMPLES}/two_people.jpg"), "--json"])
    boxes = [f["box"] for f in json.loads(result.stdout)["result"]]
    plain = runner.invoke(cli, ["detect", str(samples / f"{EXAMPLES}/two_people.jpg")])
    lines = plain.stdout.splitlines()[1:]
    assert len(lines) == len(boxes) == 2
    for n, (line, box) in enumerate(zip(lines, boxes, strict=True), 1):
        size = f"{box['right'] - box['left']} x {box['bottom'] - box['top']} px"
        assert line.startswith(f"  face {n} at x {box['left']}, y {box['top']}: {size}, score ")
