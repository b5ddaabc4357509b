"""Front ends for the faceplugin pack: its own detector and landmarks against dlib's.

Compares, in one run and on the same images, three ways to find a face and
place the 68 points that the ArcFace chip is aligned from:

* ``dlib``: dlib's HOG detector with the MMOD CNN as fallback and dlib's
  68-point shape predictor (:class:`facegate.engine.onnx_engine.OnnxEngine`,
  one thread, ``DetectorChoice.AUTO``);
* ``faceplugin``: the pack's ``fr_detect.onnx`` and ``fr_landmark.onnx``
  (:mod:`facegate.engine.faceplugin_front`);
* ``fp-box+dlib68``: the pack's detector, dlib's 68-point predictor on its box.

Every front end then goes through the same ArcFace path: five points from the
68 (:func:`facegate.engine.arcface.five_from_68`), the 112x112 chip
(:func:`~facegate.engine.arcface.align_chip`) and ``fr_feature.onnx``; pairs
are scored by cosine similarity. In every image the face whose box centre is
nearest the image centre is used (LFW's rule, applied to both sets).

Reported per set and front end: images with a face; landmark agreement with
dlib's 68 points (mean point distance over dlib's inter-ocular distance, eye
centre to eye centre), on images where both found the same face (the other
box's centre inside dlib's box); mean time per image for detection and for
landmarks; and verification: on the East-Asian pairs FNMR at FMR 1e-2 and
1e-3, on LFW View 1 the pairsDevTest accuracy at the threshold with the best
accuracy on pairsDevTrain. Verification counts only pairs where that front end
found both faces ("own"), with the number of pairs lost, and again on the
pairs where every front end found both faces ("common"), so the front ends
are compared on the same pairs.

Usage::

    nice -n 10 python bench/front_ends.py --data ../shared/data \\
        --models /tmp/fp/package/model            # both sets, in full
    python bench/front_ends.py --limit 100        # 100 pairs per pairs file

Writes ``bench/out/front_ends.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.engine.arcface import align_chip, five_from_68
from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.faceplugin_front import FacepluginDetector, FacepluginLandmarker
from facegate.engine.faces import Box, DetectorKind, Face, Landmarks, LandmarkScheme
from facegate.engine.model_cache import cache_dir
from facegate.engine.onnx_engine import OnnxEngine
from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1 as PACK
from facegate.images import Image, load_image

FRONTS = ("dlib", "faceplugin", "fp-box+dlib68")
OUT = Path(__file__).resolve().parent / "out"
F64 = npt.NDArray[np.float64]


@dataclass
class Pair:
    first: str
    second: str
    same: bool


@dataclass
class Result:
    """One image through one front end."""

    box: Box | None = None
    points: F64 | None = None
    vector: F64 | None = None
    detect_s: float = 0.0
    landmark_s: float = 0.0
    note: str = ""


@dataclass
class SetRun:
    name: str
    pairs: dict[str, list[Pair]]
    images: list[str]
    results: dict[str, dict[str, Result]] = field(default_factory=dict)
    embed_s: list[float] = field(default_factory=list)


# -- data -------------------------------------------------------------------


def _lfw_pairs(path: Path, limit: int | None) -> list[Pair]:
    lines = path.read_text(encoding="ascii").splitlines()
    n = int(lines[0].split()[0])

    def image(name: str, number: str) -> str:
        return f"{name}/{name}_{int(number):04d}.jpg"

    same = [Pair(image(a, i), image(a, j), True)
            for a, i, j in (line.split("\t") for line in lines[1:1 + n])]
    diff = [Pair(image(a, i), image(b, j), False)
            for a, i, b, j in (line.split("\t") for line in lines[1 + n:1 + 2 * n])]
    if limit is not None:
        same, diff = same[:limit // 2], diff[:limit - limit // 2]
    return same + diff


def _eastasian_pairs(path: Path, limit: int | None) -> list[Pair]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    pairs = [Pair(a, b, s.strip() == "1") for a, b, s in rows]
    if limit is not None:
        same = [p for p in pairs if p.same][:limit // 2]
        diff = [p for p in pairs if not p.same][:limit - limit // 2]
        pairs = same + diff
    return pairs


def _images(pairs: dict[str, list[Pair]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in pairs.values():
        for p in group:
            seen.setdefault(p.first)
            seen.setdefault(p.second)
    return list(seen)


# -- the front ends -----------------------------------------------------------


class Runner:
    def __init__(self, models: Path) -> None:
        import onnxruntime as ort

        self.engine = OnnxEngine(threads=1)
        self.engine.prepare()
        self.detector = FacepluginDetector(models / "fr_detect.onnx", threads=1)
        self.landmarker = FacepluginLandmarker(models / "fr_landmark.onnx", threads=1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.feature = ort.InferenceSession(str(models / "fr_feature.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.embed_s: list[float] = []

    def describe(self, image: Image, points: F64) -> F64:
        started = time.perf_counter()
        chip = align_chip(image.pixels, five_from_68(points)).astype(np.float32)
        mean, scale = PACK.normalisation
        chip = (chip - mean) / scale
        if PACK.colour_order == "bgr":  # as the pack feeds its network
            chip = chip[..., ::-1]
        tensor = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
        raw = np.asarray(self.feature.run(["output"], {"input": tensor})[0],
                         dtype=np.float64).reshape(-1)
        self.embed_s.append(time.perf_counter() - started)
        vector: F64 = raw / np.linalg.norm(raw)
        return vector

    def run(self, image: Image) -> dict[str, Result]:
        out = {name: Result() for name in FRONTS}
        centre = (image.width / 2.0, image.height / 2.0)

        def nearest(boxes: list[Box]) -> int:
            return int(np.argmin([np.hypot(b.center[0] - centre[0], b.center[1] - centre[1])
                                  for b in boxes]))

        # (a) dlib HOG -> MMOD fallback, dlib 68
        a = out["dlib"]
        t0 = time.perf_counter()
        found = self.engine.detect(image, DetectOptions(detector=DetectorChoice.AUTO))
        a.detect_s = time.perf_counter() - t0
        if found:
            face = found[nearest([f.box for f in found])]
            a.box, a.note = face.box, face.detector.value
            t0 = time.perf_counter()
            a.points = self.engine.landmarks68(image, face).as_array()
            a.landmark_s = time.perf_counter() - t0

        # (b) faceplugin detector and landmarks; (c) its box with dlib 68
        b, c = out["faceplugin"], out["fp-box+dlib68"]
        t0 = time.perf_counter()
        boxes = self.detector.detect(image.pixels)
        b.detect_s = c.detect_s = time.perf_counter() - t0
        if boxes:
            box = boxes[nearest([bx for bx, _ in boxes])][0]
            b.box = c.box = box
            t0 = time.perf_counter()
            b.points = self.landmarker.predict(image.pixels, box)
            b.landmark_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            placeholder = Face(box=box, score=1.0, detector=DetectorKind.CNN,
                               landmarks=Landmarks(scheme=LandmarkScheme.FIVE, points=()))
            c.points = self.engine.landmarks68(image, placeholder).as_array()
            c.landmark_s = time.perf_counter() - t0

        for result in out.values():
            if result.points is not None:
                result.vector = self.describe(image, result.points)
        return out


# -- metrics ------------------------------------------------------------------


def _scores(run: SetRun, front: str, pairs: list[Pair],
            keep: Callable[[Pair], bool]) -> tuple[F64, npt.NDArray[np.bool_]]:
    res = run.results[front]
    scores, same = [], []
    for p in pairs:
        if not keep(p):
            continue
        va, vb = res[p.first].vector, res[p.second].vector
        assert va is not None and vb is not None
        scores.append(float(va @ vb))
        same.append(p.same)
    return np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=bool)


def fnmr_at_fmr(scores: F64, same: npt.NDArray[np.bool_], fmr: float) -> dict[str, float]:
    """FNMR where the threshold lets through at most ``fmr`` of the impostor pairs.

    A pair matches when its score is above the threshold; the threshold is the
    (k+1)-th highest impostor score, k = floor(fmr x impostors).
    """
    impostor = np.sort(scores[~same])[::-1]
    genuine = scores[same]
    if impostor.size == 0 or genuine.size == 0:
        return {"fnmr": float("nan"), "threshold": float("nan"), "fmr": float("nan")}
    k = int(np.floor(fmr * impostor.size))
    threshold = float(impostor[min(k, impostor.size - 1)])
    return {"fnmr": float(np.mean(genuine <= threshold)), "threshold": threshold,
            "fmr": float(np.mean(impostor > threshold))}


def best_threshold(scores: F64, same: npt.NDArray[np.bool_]) -> float:
    """The threshold (match when score > threshold) with the best accuracy."""
    order = np.sort(np.unique(scores))
    candidates = np.concatenate([[order[0] - 1e-6], (order[:-1] + order[1:]) / 2,
                                 [order[-1] + 1e-6]])
    accuracy = [np.mean((scores > t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def _found(run: SetRun, front: str) -> Callable[[Pair], bool]:
    res = run.results[front]
    return lambda p: res[p.first].vector is not None and res[p.second].vector is not None


def _common(run: SetRun) -> Callable[[Pair], bool]:
    checks = [_found(run, f) for f in FRONTS]
    return lambda p: all(check(p) for check in checks)


def verification(run: SetRun, front: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for subset, keep in (("own", _found(run, front)), ("common", _common(run))):
        if run.name == "eastasian":
            pairs = run.pairs["pairs"]
            scores, same = _scores(run, front, pairs, keep)
            out[subset] = {"pairs": int(scores.size), "genuine": int(same.sum()),
                           "impostor": int((~same).sum()),
                           "at_fmr_1e-2": fnmr_at_fmr(scores, same, 1e-2),
                           "at_fmr_1e-3": fnmr_at_fmr(scores, same, 1e-3)}
        else:
            train_s, train_y = _scores(run, front, run.pairs["train"], keep)
            test_s, test_y = _scores(run, front, run.pairs["test"], keep)
            threshold = best_threshold(train_s, train_y)
            correct = int(np.sum((test_s > threshold) == test_y))
            out[subset] = {"train_pairs": int(train_s.size), "test_pairs": int(test_s.size),
                           "threshold": threshold,
                           "test_accuracy": correct / max(1, test_s.size),
                           "test_accuracy_lost_as_errors":
                               correct / len(run.pairs["test"]) if subset == "own" else None}
        if subset == "own":
            out["pairs_lost"] = {k: sum(1 for p in v if not keep(p))
                                 for k, v in run.pairs.items()}
    return out


BOOTSTRAP = 1000


def paired_bootstrap(run: SetRun, front: str, seed: int = 0) -> dict[str, Any]:
    """95 % intervals of ``front`` minus ``dlib`` on the common pairs, pairs resampled.

    East-Asian: FNMR at FMR 1e-2 and 1e-3 (thresholds re-chosen in every
    resample). LFW: DevTest accuracy at each front end's DevTrain threshold.
    Pairs that share an image or a person are not independent, so the
    intervals are somewhat too narrow; they show the scale of the noise.
    """
    rng = np.random.default_rng(seed)
    keep = _common(run)
    out: dict[str, Any] = {"resamples": BOOTSTRAP}
    if run.name == "eastasian":
        pairs = run.pairs["pairs"]
        ref_s, same = _scores(run, "dlib", pairs, keep)
        got_s, _ = _scores(run, front, pairs, keep)
        for fmr in (1e-2, 1e-3):
            diffs = []
            for _ in range(BOOTSTRAP):
                i = rng.integers(0, same.size, same.size)
                diffs.append(fnmr_at_fmr(got_s[i], same[i], fmr)["fnmr"]
                             - fnmr_at_fmr(ref_s[i], same[i], fmr)["fnmr"])
            d = np.asarray(diffs)
            out[f"fnmr_at_fmr_{fmr:.0e}_minus_dlib"] = {
                "point": fnmr_at_fmr(got_s, same, fmr)["fnmr"]
                - fnmr_at_fmr(ref_s, same, fmr)["fnmr"],
                "ci95": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))]}
    else:
        correct = {}
        for name in ("dlib", front):
            train_s, train_y = _scores(run, name, run.pairs["train"], keep)
            test_s, test_y = _scores(run, name, run.pairs["test"], keep)
            correct[name] = (test_s > best_threshold(train_s, train_y)) == test_y
        delta = correct[front].astype(np.float64) - correct["dlib"].astype(np.float64)
        boots = [float(delta[rng.integers(0, delta.size, delta.size)].mean())
                 for _ in range(BOOTSTRAP)]
        out["test_accuracy_minus_dlib"] = {
            "point": float(delta.mean()),
            "ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]}
    return out


def landmark_agreement(run: SetRun, front: str) -> dict[str, Any]:
    errors = []
    for path in run.images:
        ref, got = run.results["dlib"][path], run.results[front][path]
        if ref.points is None or got.points is None or ref.box is None or got.box is None:
            continue
        cx, cy = got.box.center
        if not (ref.box.left <= cx < ref.box.right and ref.box.top <= cy < ref.box.bottom):
            continue
        iod = float(np.linalg.norm(ref.points[36:42].mean(axis=0)
                                   - ref.points[42:48].mean(axis=0)))
        errors.append(float(np.linalg.norm(got.points - ref.points, axis=1).mean()) / iod)
    e = np.asarray(errors)
    if e.size == 0:
        return {"images": 0}
    return {"images": int(e.size), "median": float(np.median(e)),
            "p95": float(np.percentile(e, 95)), "mean": float(e.mean()),
            "over_0.1": int(np.sum(e > 0.1))}


def summarise(run: SetRun) -> dict[str, Any]:
    summary: dict[str, Any] = {"images": len(run.images), "fronts": {}}
    for front in FRONTS:
        res = [run.results[front][p] for p in run.images]
        found = [r for r in res if r.points is not None]
        entry: dict[str, Any] = {
            "faces_found": len(found),
            "detect_ms_mean": 1000 * float(np.mean([r.detect_s for r in res])),
            "detect_ms_median": 1000 * float(np.median([r.detect_s for r in res])),
            "landmark_ms_mean": 1000 * float(np.mean([r.landmark_s for r in found]))
            if found else None,
            "verification": verification(run, front),
        }
        if front == "dlib":
            entry["found_by"] = {kind: sum(1 for r in found if r.note == kind)
                                 for kind in ("hog", "cnn")}
        else:
            entry["landmarks_vs_dlib"] = landmark_agreement(run, front)
            entry["vs_dlib_common_pairs"] = paired_bootstrap(run, front)
        summary["fronts"][front] = entry
    summary["embed_ms_mean"] = 1000 * float(np.mean(run.embed_s)) if run.embed_s else None
    return summary


# -- the run --------------------------------------------------------------------


def process(run: SetRun, root: Path, runner: Runner) -> None:
    run.results = {f: {} for f in FRONTS}
    started = time.perf_counter()
    runner.embed_s = []
    for i, rel in enumerate(run.images, 1):
        out = runner.run(load_image(root / rel))
        for front in FRONTS:
            run.results[front][rel] = out[front]
        if i % 250 == 0 or i == len(run.images):
            print(f"  {run.name}: {i}/{len(run.images)} images, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    run.embed_s = list(runner.embed_s)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def table(summaries: dict[str, dict[str, Any]]) -> str:
    lines = []
    head = (f"{'set':<10} {'front end':<14} {'found':>11} {'det ms':>7} {'lm ms':>6} "
            f"{'NME med':>7} {'NME p95':>7} {'verification (own pairs)':<44} {'lost':>5} "
            f"{'common pairs':<26}")
    lines += [head, "-" * len(head)]
    for name, s in summaries.items():
        for front in FRONTS:
            f = s["fronts"][front]
            lm = f.get("landmarks_vs_dlib", {})
            v = f["verification"]
            if name == "eastasian":
                own = v["own"]
                ver = (f"FNMR@1e-2 {_fmt(own['at_fmr_1e-2']['fnmr'])} "
                       f"FNMR@1e-3 {_fmt(own['at_fmr_1e-3']['fnmr'])} n={own['pairs']}")
                com = (f"{_fmt(v['common']['at_fmr_1e-2']['fnmr'])} / "
                       f"{_fmt(v['common']['at_fmr_1e-3']['fnmr'])} n={v['common']['pairs']}")
                lost = sum(v["pairs_lost"].values())
            else:
                own = v["own"]
                ver = (f"DevTest acc {_fmt(own['test_accuracy'], 4)} "
                       f"(lost=err {_fmt(own['test_accuracy_lost_as_errors'], 4)}) "
                       f"n={own['test_pairs']}")
                com = f"acc {_fmt(v['common']['test_accuracy'], 4)} n={v['common']['test_pairs']}"
                lost = v["pairs_lost"]["test"]
            lines.append(
                f"{name:<10} {front:<14} {f['faces_found']:>5}/{s['images']:<5} "
                f"{_fmt(f['detect_ms_mean'], 1):>7} {_fmt(f['landmark_ms_mean'], 1):>6} "
                f"{_fmt(lm.get('median')):>7} {_fmt(lm.get('p95')):>7} {ver:<44} {lost:>5} "
                f"{com:<26}")
    return "\n".join(lines)


def diff_table(summaries: dict[str, dict[str, Any]]) -> str:
    lines = ["difference from dlib on the common pairs, paired bootstrap 95 % interval:"]
    for name, s in summaries.items():
        for front in FRONTS[1:]:
            boot = s["fronts"][front]["vs_dlib_common_pairs"]
            parts = []
            for key, value in boot.items():
                if key == "resamples":
                    continue
                lo, hi = value["ci95"]
                parts.append(f"{key} {value['point']:+.4f} [{lo:+.4f}, {hi:+.4f}]")
            lines.append(f"  {name:<10} {front:<14} " + "; ".join(parts))
    found_by = {n: s["fronts"]["dlib"]["found_by"] for n, s in summaries.items()}
    lines.append("dlib faces found by HOG / by the MMOD fallback: "
                 + ", ".join(f"{n} {v['hog']} / {v['cnn']}" for n, v in found_by.items()))
    return "\n".join(lines)


def _default_models() -> Path:
    """``$FACEGATE_FACEPLUGIN_DIR``, else the installed pack's folder."""
    if os.environ.get("FACEGATE_FACEPLUGIN_DIR"):
        return Path(os.environ["FACEGATE_FACEPLUGIN_DIR"])
    root = cache_dir() / "packs"
    installed = sorted(root.glob("faceplugin-arcface-v1-*"), reverse=True)
    return installed[0] if installed else root / "faceplugin-arcface-v1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--models", type=Path, default=_default_models(),
                        help="folder with fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N pairs of each pairs file (half same, "
                             "half different)")
    parser.add_argument("--sets", default="eastasian,lfw")
    parser.add_argument("--out", type=Path, default=OUT / "front_ends.json")
    args = parser.parse_args(argv)

    runner = Runner(args.models)
    sets: dict[str, tuple[Path, SetRun]] = {}
    wanted = args.sets.split(",")
    if "eastasian" in wanted:
        root = args.data / "eastasian" / "thefamouspeople_eastasian"
        pairs = {"pairs": _eastasian_pairs(root / "pairs.tsv", args.limit)}
        sets["eastasian"] = (root, SetRun("eastasian", pairs, _images(pairs)))
    if "lfw" in wanted:
        root = args.data / "lfw"
        pairs = {"train": _lfw_pairs(root / "pairsDevTrain.txt", args.limit),
                 "test": _lfw_pairs(root / "pairsDevTest.txt", args.limit)}
        sets["lfw"] = (root, SetRun("lfw", pairs, _images(pairs)))

    report: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "limit": args.limit,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "threads": 1, "niceness": os.nice(0)},
        "face_choice": "nearest the image centre",
        "sets": {},
    }
    started = time.perf_counter()
    for name, (root, run) in sets.items():
        print(f"{name}: {len(run.images)} images", file=sys.stderr, flush=True)
        process(run, root, runner)
        report["sets"][name] = summarise(run)
        report["elapsed_s"] = time.perf_counter() - started
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report["sets"]))
    print()
    print(diff_table(report["sets"]))
    print("\nembedding (align + fr_feature) ms/face: "
          + ", ".join(f"{k} {_fmt(v['embed_ms_mean'], 1)}" for k, v in report["sets"].items()))
    print(f"elapsed {report['elapsed_s']:.0f} s; JSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
