"""Population fitness: rates, intervals and thresholds, and ``facegate evaluate`` on real faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from facegate.calibration.shipped import shipped_calibration
from facegate.cli import cli
from facegate.errors import InvalidArgument
from facegate.fitness.evaluation import (
    evaluate_distances,
    load_labelled_set,
    threshold_at_fmr,
    wilson,
)

EASTASIAN = "eastasian/thefamouspeople_eastasian"


def test_wilson_interval_matches_known_values() -> None:
    lo, hi = wilson(3, 3000)
    assert lo == pytest.approx(0.00034, abs=2e-5) and hi == pytest.approx(0.00294, abs=2e-5)
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and hi == pytest.approx(0.037, abs=1e-3)


def test_threshold_at_fmr_accepts_at_most_the_target_share() -> None:
    impostor = np.linspace(0.5, 1.5, 2000)
    t = threshold_at_fmr(impostor, 1e-3)
    assert t is not None
    assert np.count_nonzero(impostor <= t) == 2  # floor(0.001 * 2000)
    # 1e-4 needs at least 10,000 different-person pairs: not measurable from 2,000.
    assert threshold_at_fmr(impostor, 1e-4) is None


def test_missing_faces_count_against_the_pack() -> None:
    genuine = np.array([0.2, 0.3, np.inf, 0.9])
    impostor = np.array([1.0, 1.1, np.inf, 0.25] + [1.2] * 996)
    e = evaluate_distances(genuine, impostor, threshold=0.5, threshold_label="test",
                           target_fmr=1e-3, pack="p", pack_version="1", dataset="d",
                           fingerprint="f", images=10, no_face=1)
    assert (e.fnmr.errors, e.fnmr.trials) == (2, 4)  # the missing face and the 0.9
    assert (e.fmr.errors, e.fmr.trials) == (1, 1000)  # only the 0.25
    assert e.target.threshold is not None and e.target.fmr is not None
    assert e.target.fmr.errors <= 1
    with pytest.raises(InvalidArgument):
        evaluate_distances(genuine, impostor, threshold=0.5, threshold_label="", target_fmr=2,
                           pack="p", pack_version="1", dataset="d", fingerprint="f",
                           images=1, no_face=0)


def test_labelled_sets_are_read_from_pairs_files_and_folders(shared: Path,
                                                             tmp_path: Path) -> None:
    data = load_labelled_set(shared / "eastasian")
    assert data.name == "thefamouspeople_eastasian" and data.pairs is not None
    assert sum(1 for p in data.pairs if p[2]) == 1658
    assert sum(1 for p in data.pairs if not p[2]) == 3000
    assert set(data.groups.values()) == {"chinese", "japanese", "korean"}
    lfw = load_labelled_set(shared / "lfw", pairs_file=shared / "lfw" / "pairsDevTest.txt")
    assert lfw.pairs is not None and len(lfw.pairs) == 1000
    (tmp_path / "bad.tsv").write_text("a.jpg\tb.jpg\tmaybe\n")
    with pytest.raises(InvalidArgument):
        load_labelled_set(shared / "eastasian", pairs_file=tmp_path / "bad.tsv")
    (tmp_path / "escape.tsv").write_text("../x.jpg\tb.jpg\t1\n")
    with pytest.raises(InvalidArgument):
        load_labelled_set(shared / "eastasian", pairs_file=tmp_path / "escape.tsv")
    with pytest.raises(InvalidArgument):
        load_labelled_set(tmp_path / "absent")


def _small_population(shared: Path, tmp_path: Path, people: int = 8) -> Path:
    """A folder per person with the first ``people`` East-Asian identities of 3+ photos."""
    source = shared / EASTASIAN
    folder = tmp_path / "population"
    chosen = [d for d in sorted(source.iterdir())
              if d.is_dir() and len(list(d.glob("*.jpg"))) >= 3][:people]
    for person in chosen:
        (folder / person.name).mkdir(parents=True)
        for image in sorted(person.glob("*.jpg"))[:3]:
            (folder / person.name / image.name).symlink_to(image)
    return folder


def test_evaluate_prints_every_figure_for_a_folder_per_person(shared: Path,
                                                              tmp_path: Path) -> None:
    folder = _small_population(shared, tmp_path)
    result = CliRunner().invoke(cli, ["evaluate", str(folder), "--pack", "dlib-resnet-v1",
                                      "--target-fmr", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["pack"] == "dlib-resnet-v1" and report["images"] == 24
    assert report["genuine_pairs"] == 8 * 3 and report["impostor_pairs"] == 24 * 23 // 2 - 24
    # the threshold of the pack's shipped calibration for the default population
    shipped = shipped_calibration("dlib-resnet-v1", "1.0", "east-asian-adults")
    assert shipped is not None and report["threshold"] == pytest.approx(shipped.threshold)
    assert "east-asian-adults" in report["threshold_label"]
    assert report["unusable"] == []
    on_lfw = CliRunner().invoke(cli, ["evaluate", str(folder), "--pack", "dlib-resnet-v1",
                                      "--population", "lfw-view1", "--json"])
    lfw = shipped_calibration("dlib-resnet-v1", "1.0", "lfw-view1")
    assert lfw is not None
    assert json.loads(on_lfw.output)[0]["threshold"] == pytest.approx(lfw.threshold)
    assert report["fmr"]["ci95"][0] <= report["fmr"]["value"] <= report["fmr"]["ci95"][1]
    assert report["target"]["measurable"] and report["target"]["fnmr"] is not None
    assert [p["target_fmr"] for p in report["reported"]] == [1e-3, 1e-4]
    assert not report["reported"][1]["measurable"]  # 252 pairs cannot show 1e-4


def test_evaluate_lists_every_unusable_file_and_never_counts_it_as_no_face(
        shared: Path, tmp_path: Path) -> None:
    folder = _small_population(shared, tmp_path)
    person = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    photo = sorted(person.glob("*.jpg"))[0].read_bytes()
    (person / "notes.jpg").write_text("not a photo")
    (person / "cut.jpg").write_bytes(photo[:300])
    (person / "blank.png").write_bytes(_blank_png())
    result = CliRunner().invoke(cli, ["evaluate", str(folder), "--pack", "dlib-resnet-v1",
                                      "--target-fmr", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    listed = {Path(u["image"]).name: u["code"] for u in report["unusable"]}
    assert listed == {"notes.jpg": "image.undecodable", "cut.jpg": "image.truncated"}
    assert report["images"] == 27 and report["no_face"] == 1  # only the blank image
    # the unusable files' pairs are left out; the blank image's count against the pack
    assert report["genuine_pairs"] == 8 * 3 + 3
    words = CliRunner().invoke(cli, ["evaluate", str(folder), "--pack", "dlib-resnet-v1",
                                     "--target-fmr", "0.05"])
    assert f"unusable: {person.name}/notes.jpg: image.undecodable" in words.output
    assert "(1 without a face, 2 unusable)" in words.output


def _blank_png() -> bytes:
    import io

    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (120, 120), (128, 128, 128)).save(buf, format="PNG")
    return buf.getvalue()


def test_evaluate_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("facegate: argument.invalid:")
    assert len(result.output.strip().splitlines()) == 1


def test_calibrate_writes_the_det_curve_and_the_model_card(shared: Path, tmp_path: Path) -> None:
    folder = _small_population(shared, tmp_path)
    labels = tmp_path / "labels.csv"
    rows = sorted(str(p.relative_to(folder)) for p in folder.glob("*/*.jpg"))
    labels.write_text("image,identity\n" + "".join(f"{r},{r.split('/')[0]}\n" for r in rows))
    det, card = tmp_path / "det.png", tmp_path / "card.md"
    result = CliRunner().invoke(cli, [
        "calibrate", str(folder), "--pack", "dlib-resnet-v1", "--labels", str(labels),
        "--target-fmr", "0.05",
        "--population", "eight East-Asian public figures", "--det", str(det),
        "--card", str(card)])
    assert result.exit_code == 0, result.output
    assert det.read_bytes().startswith(b"\x89PNG")
    text = card.read_text()
    assert "# Model card: dlib-resnet-v1 1.0" in text
    assert "- Population: eight East-Asian public figures" in text
    assert "- Target false-match rate: 0.05" in text and "- FNMR at it: " in text
    assert "threshold for FMR 0.05:" in result.output
    # A gallery of 100 divides the per-comparison target: 0.05 / 100 cannot be shown by
    # 252 different-person pairs, and the card says so instead of extrapolating.
    small = CliRunner().invoke(cli, [
        "calibrate", str(folder), "--pack", "dlib-resnet-v1", "--target-fmr", "0.05",
        "--gallery-size", "100",
        "--det", str(det), "--card", str(card)])
    assert small.exit_code == 0, small.output
    assert "cannot show a false-match rate of 0.0005" in card.read_text()
