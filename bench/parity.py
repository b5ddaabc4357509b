"""Parity of the ONNX engine with the dlib engine on LFW View 1 (all 4,992 images).

For every image in pairsDevTrain.txt and pairsDevTest.txt both engines detect
(HOG, one upsample: the default pipeline), place 5-point landmarks and embed
every face; the script reports the largest box, landmark and descriptor
differences and how many images differ in face count. On every
``--cnn-every``-th image it also compares the MMOD CNN detector. Finally it
verifies pairsDevTest to the pair: the threshold is chosen on pairsDevTrain
with dlib's descriptors, and each engine's same/different decision is
compared on every test pair (an image without a face makes its pairs
"different").

Usage::

    python bench/parity.py [--lfw ../shared/data/lfw] [--limit N] [--cnn-every 20]

Needs dlib (``pip install -e '.[dlib]'``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.dlib_engine import DlibEngine
from facegate.engine.faces import Face
from facegate.engine.onnx_engine import OnnxEngine
from facegate.images import load_image

REPO = Path(__file__).resolve().parents[1]


def read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    lines = path.read_text().split("\n")
    count = int(lines[0])
    pairs = []
    for line in lines[1:1 + 2 * count]:
        f = line.split()
        if len(f) == 3:
            pairs.append((_image(f[0], f[1]), _image(f[0], f[2]), True))
        else:
            pairs.append((_image(f[0], f[1]), _image(f[2], f[3]), False))
    return pairs


def _image(name: str, index: str) -> str:
    return f"{name}/{name}_{int(index):04d}.jpg"


def compare_faces(a: list[Face], b: list[Face]) -> tuple[float, float, float]:
    """Largest box, landmark and descriptor differences between matched faces."""
    box = lm = desc = 0.0
    for x, y in zip(a, b, strict=True):
        box = max(box, float(np.abs(np.subtract(
            list(x.box.as_dict().values()), list(y.box.as_dict().values()))).max()))
        lm = max(lm, float(np.abs(x.landmarks.as_array() - y.landmarks.as_array()).max()))
        if x.descriptor is not None and y.descriptor is not None:
            desc = max(desc, float(np.linalg.norm(
                x.descriptor.vector.astype(np.float64) - y.descriptor.vector.astype(np.float64))))
    return box, lm, desc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=REPO.parent / "shared" / "data" / "lfw")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("--cnn-every", type=int, default=20,
                        help="also compare the CNN detector on every N-th image (0: never)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "parity.json")
    args = parser.parse_args()
    train = read_pairs(args.lfw / "pairsDevTrain.txt")
    test = read_pairs(args.lfw / "pairsDevTest.txt")
    images = sorted({p for a, b, _ in train + test for p in (a, b)})
    if args.limit:
        images = images[:args.limit]
    dlib_engine, onnx_engine = DlibEngine(), OnnxEngine(threads=args.threads)
    hog = DetectOptions(detector=DetectorChoice.HOG, upsample=1)
    cnn = DetectOptions(detector=DetectorChoice.CNN, upsample=1)
    worst = {"box_px": 0.0, "landmark_px": 0.0, "descriptor": 0.0,
             "cnn_box_px": 0.0, "cnn_landmark_px": 0.0}
    count_mismatch: list[str] = []
    cnn_mismatch: list[str] = []
    primary: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
    faces_total = cnn_images = 0
    start = time.perf_counter()
    for i, name in enumerate(images):
        image = load_image(args.lfw / name)
        a = dlib_engine.embed(image, dlib_engine.detect(image, hog))
        b = onnx_engine.embed(image, onnx_engine.detect(image, hog))
        faces_total += len(a)
        if len(a) != len(b):
            count_mismatch.append(name)
        else:
            box, lm, desc = compare_faces(a, b)
            worst["box_px"] = max(worst["box_px"], box)
            worst["landmark_px"] = max(worst["landmark_px"], lm)
            worst["descriptor"] = max(worst["descriptor"], desc)
        primary[name] = (a[0].descriptor.vector if a and a[0].descriptor else None,
                         b[0].descriptor.vector if b and b[0].descriptor else None)
        if args.cnn_every and i % args.cnn_every == 0:
            cnn_images += 1
            ca, cb = dlib_engine.detect(image, cnn), onnx_engine.detect(image, cnn)
            if len(ca) != len(cb):
                cnn_mismatch.append(name)
            else:
                box, lm, _ = compare_faces(ca, cb)
                worst["cnn_box_px"] = max(worst["cnn_box_px"], box)
                worst["cnn_landmark_px"] = max(worst["cnn_landmark_px"], lm)
        if (i + 1) % 250 == 0:
            print(f"{i + 1}/{len(images)} images, {time.perf_counter() - start:.0f} s, "
                  f"worst so far {worst}", file=sys.stderr, flush=True)
    result: dict[str, object] = {
        "images": len(images), "faces": faces_total, "worst": worst,
        "face_count_mismatches": count_mismatch, "cnn_images": cnn_images,
        "cnn_count_mismatches": cnn_mismatch,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if not args.limit:
        result.update(pair_decisions(train, test, primary))
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


def _distance(u: np.ndarray | None, v: np.ndarray | None) -> float:
    if u is None or v is None:
        return float("inf")
    return float(np.linalg.norm(u.astype(np.float64) - v.astype(np.float64)))


def pair_decisions(train: list[tuple[str, str, bool]], test: list[tuple[str, str, bool]],
                   primary: dict[str, tuple[np.ndarray | None, np.ndarray | None]]
                   ) -> dict[str, object]:
    """Threshold from pairsDevTrain (dlib), then each engine's decision on every test pair."""
    dist = np.array([_distance(primary[a][0], primary[b][0]) for a, b, _ in train])
    same = np.array([s for _, _, s in train])
    candidates = np.unique(dist[np.isfinite(dist)])
    accuracy = [((dist <= t) == same).mean() for t in candidates]
    threshold = float(candidates[int(np.argmax(accuracy))])
    d_dlib = np.array([_distance(primary[a][0], primary[b][0]) for a, b, _ in test])
    d_onnx = np.array([_distance(primary[a][1], primary[b][1]) for a, b, _ in test])
    truth = np.array([s for _, _, s in test])
    finite = np.isfinite(d_dlib) & np.isfinite(d_onnx)
    return {
        "threshold_from_train": threshold,
        "test_accuracy_dlib": float(((d_dlib <= threshold) == truth).mean()),
        "test_accuracy_onnx": float(((d_onnx <= threshold) == truth).mean()),
        "test_pairs_decided_differently": int(((d_dlib <= threshold) != (d_onnx <= threshold))
                                              .sum()),
        "test_max_pair_distance_difference": float(np.abs(d_dlib[finite] - d_onnx[finite]).max()),
    }


if __name__ == "__main__":
    raise SystemExit(main())
