"""LFW verification benchmark (View 1, or View 2's ten folds).

View 1: the threshold is chosen on pairsDevTrain (best accuracy) and applied,
unchanged, to pairsDevTest, which reports accuracy, FMR and FNMR. View 2
(``--pairs pairs.txt``): for each of the ten folds the threshold is chosen on
the other nine, and the mean and standard deviation of the fold accuracies are
reported.

The face that matters in an LFW image is the one at the centre, so the face
whose box centre is nearest the image centre is used. Detection is HOG with
one upsampling; where HOG finds nothing, dlib's CNN detector is tried. Images
where neither finds a face are reported, and every pair that involves one is
counted as an error (decided "different" for a same-person pair, and so on),
which is the conservative choice.

Descriptors are cached (resumable) in ``bench/out/``, keyed by the model pack
and detection settings (the ONNX and dlib engines give the same descriptors,
see ``bench/parity.py``), so an interrupted run continues where it stopped.

Usage::

    python bench/lfw.py                       # View 1 on ../shared/data/lfw
    python bench/lfw.py --pairs /path/to/pairs.txt --lfw /path/to/lfw
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.engine.base import DetectOptions, DetectorChoice, Engine
from facegate.engine.default import engine_for_pack
from facegate.engine.dlib_engine import DlibEngine
from facegate.engine.onnx_engine import OnnxEngine, onnx_available
from facegate.engine.packs import DEFAULT_PACK
from facegate.images import load_image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LFW = REPO.parent / "shared" / "data" / "lfw"
OUT = REPO / "bench" / "out"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    fold: int


def read_pairs(path: Path) -> list[Pair]:
    """Parse an LFW pairs file (View 1 ``pairsDev*.txt`` or View 2 ``pairs.txt``)."""
    lines = path.read_text().strip().splitlines()
    header = lines[0].split()
    folds, per_class = (int(header[0]), int(header[1])) if len(header) == 2 else (1, int(header[0]))
    pairs: list[Pair] = []
    for index, line in enumerate(lines[1:]):
        f = line.split("\t") if "\t" in line else line.split()
        fold = index // (2 * per_class)
        if len(f) == 3:
            pairs.append(Pair(_img(f[0], f[1]), _img(f[0], f[2]), True, fold))
        elif len(f) == 4:
            pairs.append(Pair(_img(f[0], f[1]), _img(f[2], f[3]), False, fold))
        else:
            raise SystemExit(f"{path}: line {index + 2} is not a pair: {line!r}")
    if len(pairs) != folds * per_class * 2:
        raise SystemExit(f"{path}: expected {folds * per_class * 2} pairs, found {len(pairs)}")
    return pairs


def _img(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


# -- descriptors --------------------------------------------------------------

_engine: Engine | None = None
_root: Path | None = None


def make_engine(name: str) -> Engine:
    """``onnx`` (the default engine, one thread per worker), ``dlib`` (the reference),
    or ``pack:ID`` (the engine of model pack ID, one thread per worker)."""
    if name.startswith("pack:"):
        return engine_for_pack(name[len("pack:"):], threads=1)
    if name == "onnx" and onnx_available():
        return OnnxEngine(threads=1)
    return DlibEngine()


def _init(root: str, engine: str) -> None:
    global _engine, _root
    _engine, _root = make_engine(engine), Path(root)


def _describe(rel: str) -> tuple[str, str | None, list[float] | None]:
    """Descriptor of the central face of one image: (image, detector used, vector)."""
    assert _engine is not None and _root is not None
    image = load_image(_root / rel)
    faces = _engine.detect(image, DetectOptions(detector=DetectorChoice.AUTO, upsample=1))
    if not faces:
        return rel, None, None
    cx, cy = image.width / 2, image.height / 2
    face = min(faces, key=lambda f: (f.box.center[0] - cx) ** 2 + (f.box.center[1] - cy) ** 2)
    described = _engine.embed(image, [face])[0]
    assert described.descriptor is not None
    return rel, face.detector.value, [float(v) for v in described.descriptor.vector]


def load_cache(path: Path) -> dict[str, dict[str, object]]:
    cache: dict[str, dict[str, object]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interrupted run
            cache[row["image"]] = row
    return cache


def describe_all(images: list[str], root: Path, cache_path: Path, workers: int,
                 engine: str) -> dict[str, dict[str, object]]:
    cache = load_cache(cache_path)
    todo = [i for i in images if i not in cache]
    print(f"{len(images)} images, {len(images) - len(todo)} cached, {len(todo)} to describe",
          file=sys.stderr)
    if todo:
        from tqdm import tqdm

        cache_path.parent.mkdir(parents=True, exist_ok=True)
        with cache_path.open("a") as sink, Pool(workers, _init, (str(root), engine)) as pool:
            results: Iterator[tuple[str, str | None, list[float] | None]] = pool.imap_unordered(
                _describe, todo, chunksize=4)
            for rel, detector, vector in tqdm(results, total=len(todo), unit="img",
                                              file=sys.stderr):
                row = {"image": rel, "detector": detector, "descriptor": vector}
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                cache[rel] = row
    return cache


# -- evaluation ----------------------------------------------------------------

def distances(pairs: list[Pair], cache: dict[str, dict[str, object]]) -> npt.NDArray[np.float64]:
    """Distance per pair; NaN where either image has no face."""
    out = np.full(len(pairs), np.nan)
    for i, p in enumerate(pairs):
        va, vb = cache[p.a]["descriptor"], cache[p.b]["descriptor"]
        if va is not None and vb is not None:
            out[i] = float(np.linalg.norm(np.asarray(va) - np.asarray(vb)))
    return out


def decide(dist: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.bool_]:
    """Same-person decisions; a pair without a face is decided 'different'."""
    return np.where(np.isnan(dist), False, dist <= threshold)


def outcome_correct(dist: npt.NDArray[np.float64], same: npt.NDArray[np.bool_],
                    threshold: float) -> npt.NDArray[np.bool_]:
    """Whether each pair is decided correctly; a pair without a face always counts as an error."""
    return np.where(np.isnan(dist), False, decide(dist, threshold) == same)


def best_threshold(dist: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> float:
    """The threshold of best accuracy: the midpoint between neighbouring sorted distances."""
    d = np.sort(dist[~np.isnan(dist)])
    candidates = np.concatenate([[d[0] - 1e-6], (d[1:] + d[:-1]) / 2, [d[-1] + 1e-6]])
    scores = [outcome_correct(dist, same, float(t)).mean() for t in candidates]
    best = int(np.argmax(scores))
    # Several thresholds tie on accuracy: take the middle of the best run.
    ties = np.flatnonzero(np.isclose(scores, scores[best]))
    run = ties[ties - ties[0] == np.arange(len(ties))]
    return float(candidates[run[len(run) // 2]])


def threshold_at_fmr(dist: npt.NDArray[np.float64], same: npt.NDArray[np.bool_],
                     target: float) -> float:
    """The operating threshold: at most ``target`` of the different-person pairs accepted.

    With n different-person pairs, k = floor(target * n) false matches are
    allowed; the threshold is the midpoint between the k-th and (k+1)-th
    smallest different-person distances.
    """
    impostors = np.sort(dist[~same & ~np.isnan(dist)])
    k = int(np.floor(target * len(impostors)))
    low = impostors[k - 1] if k > 0 else impostors[0] - 2 * 1e-3
    return float((low + impostors[k]) / 2)


def rates(dist: npt.NDArray[np.float64], same: npt.NDArray[np.bool_],
          threshold: float) -> dict[str, float]:
    correct = outcome_correct(dist, same, threshold)
    accepted = decide(dist, threshold)
    return {
        "accuracy": float(correct.mean()),
        "fmr": float(accepted[~same].mean()),
        "fnmr": float((~accepted[same] | np.isnan(dist[same])).mean()),
        "errors": int((~correct).sum()),
        "pairs": len(same),
    }


def det_curve(dist: npt.NDArray[np.float64], same: npt.NDArray[np.bool_],
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """FMR and FNMR over every threshold (pairs without a face count as errors)."""
    ts = np.unique(dist[~np.isnan(dist)])
    fmr = np.array([decide(dist, t)[~same].mean() for t in ts])
    fnmr = np.array([(~decide(dist, t))[same].mean() for t in ts])
    return fmr, fnmr


def plot_det(curves: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
             marks: dict[str, tuple[float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
    for label, (fmr, fnmr) in curves.items():
        seen = (fmr > 0) & (fnmr > 0)  # a log axis cannot show a zero rate
        ax.step(fmr[seen], fnmr[seen], where="post", label=label)
    for label, (fm, fn) in marks.items():
        if fm > 0 and fn > 0:
            ax.plot(fm, fn, "o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false match rate (FMR)")
    ax.set_ylabel("false non-match rate (FNMR)")
    ax.set_title("DET curve, dlib-resnet-v1 on LFW")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW, help="LFW image folder")
    parser.add_argument("--pairs", type=Path, default=None,
                        help="a View 2 pairs.txt (ten folds); default: View 1 dev files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine", choices=["onnx", "dlib"], default="onnx",
                        help="onnx: the default engine; dlib: the reference (same results)")
    parser.add_argument("--pack", default=DEFAULT_PACK,
                        help="model pack to measure (an installable pack must be installed)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    engine_name = args.engine if args.pack == DEFAULT_PACK else f"pack:{args.pack}"
    suffix = "" if args.pack == DEFAULT_PACK else "-" + args.pack.replace("/", "--")
    if not args.lfw.is_dir():
        print(f"LFW not found at {args.lfw}; pass --lfw", file=sys.stderr)
        return 2

    started = time.perf_counter()
    if args.pairs is None:
        train = read_pairs(args.lfw / "pairsDevTrain.txt")
        test = read_pairs(args.lfw / "pairsDevTest.txt")
        all_pairs = train + test
    else:
        all_pairs = read_pairs(args.pairs)
    images = sorted({p.a for p in all_pairs} | {p.b for p in all_pairs})
    engine = make_engine(engine_name)
    paddings = "-".join(f"{p:g}" for p in engine.pack.view_paddings)
    key = f"{engine.pack.id}-{engine.pack.version}-auto-up1-views{paddings}"
    cache = describe_all(images, args.lfw, args.out / f"lfw-cache-{key}.jsonl", args.workers,
                         engine_name)
    described = time.perf_counter() - started

    missing = sorted(i for i in images if cache[i]["descriptor"] is None)
    found_by = Counter(str(cache[i]["detector"]) for i in images if cache[i]["detector"])
    print(f"\nengine: {type(engine).__name__}, pack {engine.pack.id} {engine.pack.version}, "
          f"front end {getattr(engine, 'front', 'dlib')} (dlib: HOG, 1 upsample, CNN fallback), "
          f"alignment: {engine.pack.alignment}; views: "
          f"{engine.pack.view_paddings or 'one chip'}")
    print(f"images: {len(images)}; faces found by detector: "
          + ", ".join(f"{k} {v}" for k, v in sorted(found_by.items()))
          + f"; no face: {len(missing)}")
    for m in missing:
        print(f"  no face: {m}")

    if args.pairs is None:
        same_tr = np.array([p.same for p in train])
        same_te = np.array([p.same for p in test])
        d_tr, d_te = distances(train, cache), distances(test, cache)
        t = best_threshold(d_tr, same_tr)
        r_tr, r_te = rates(d_tr, same_tr, t), rates(d_te, same_te, t)
        lost = int(np.isnan(d_te).sum())
        print(f"\nthreshold chosen on pairsDevTrain: {t:.4f} "
              f"(train accuracy {r_tr['accuracy']:.4f})")
        print(f"pairsDevTest at that threshold: accuracy {r_te['accuracy']:.4f} "
              f"({r_te['pairs'] - r_te['errors']}/{r_te['pairs']}), "
              f"FMR {r_te['fmr']:.4f}, FNMR {r_te['fnmr']:.4f}; "
              f"{lost} test pair(s) without a face, counted as errors")
        op = threshold_at_fmr(d_tr, same_tr, 1e-3)
        o_tr, o_te = rates(d_tr, same_tr, op), rates(d_te, same_te, op)
        print(f"\noperating threshold for FMR <= 0.001 on pairsDevTrain: {op:.4f} "
              f"(train FMR {o_tr['fmr']:.4f}, FNMR {o_tr['fnmr']:.4f})")
        print(f"pairsDevTest at the operating threshold: FMR {o_te['fmr']:.4f}, "
              f"FNMR {o_te['fnmr']:.4f}, accuracy {o_te['accuracy']:.4f}")
        args.out.mkdir(parents=True, exist_ok=True)
        det = args.out / f"lfw-det{suffix}.png"
        plot_det({"pairsDevTrain": det_curve(d_tr, same_tr),
                  "pairsDevTest": det_curve(d_te, same_te)},
                 {f"DevTest at t={t:.3f} (best accuracy)": (r_te["fmr"], r_te["fnmr"]),
                  f"DevTest at t={op:.3f} (FMR<=1e-3 on DevTrain)": (o_te["fmr"], o_te["fnmr"])},
                 det)
        summary = {"threshold": t, "train": r_tr, "test": r_te, "operating_threshold": op,
                   "operating_train": o_tr, "operating_test": o_te, "no_face": missing}
    else:
        same = np.array([p.same for p in all_pairs])
        fold = np.array([p.fold for p in all_pairs])
        dist = distances(all_pairs, cache)
        accs = []
        for k in range(int(fold.max()) + 1):
            t = best_threshold(dist[fold != k], same[fold != k])
            accs.append(rates(dist[fold == k], same[fold == k], t)["accuracy"])
        print(f"\nView 2, {len(accs)} folds: accuracy {np.mean(accs):.4f} "
              f"± {np.std(accs):.4f} (mean ± standard deviation)")
        det = args.out / f"lfw-view2-det{suffix}.png"
        plot_det({"all folds": det_curve(dist, same)}, {}, det)
        summary = {"folds": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs))}
    (args.out / f"lfw-summary{suffix}.json").write_text(json.dumps(summary, indent=2))
    print(f"DET curve: {det}")
    print(f"time: {described:.0f} s describing, {time.perf_counter() - started:.0f} s in all "
          f"({args.workers} worker(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
