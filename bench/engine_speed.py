"""Engine speed: the dlib and ONNX engines side by side, per stage, in one run.

Stages, on real LFW photos and larger sample photos from ../shared/data:

* decode      -- ``load_image`` (shared by both engines);
* detect-hog  -- dlib's HOG detector (both engines run dlib's; listed for completeness);
* detect-cnn  -- the MMOD CNN detector (dlib vs ONNX Runtime), one upsample;
* landmarks   -- 5-point shape predictor per face (dlib vs numpy);
* align       -- the 150x150 face chip (dlib vs numpy);
* descriptor  -- the ResNet on chips, batch 1 and batched (dlib vs ONNX Runtime);
* pipeline    -- detect (HOG) + landmarks + the six-view descriptor per image.

Each stage is timed for both engines in alternating rounds and the best
round is kept, so the ratio compares the two under the same machine load.
The descriptor network's FLOPs and the achieved GFLOP/s are printed next to
the machine's float32 matrix-product peak (numpy, all cores).

Usage::

    python bench/engine_speed.py [--lfw 40] [--samples 6] [--cnn-images 4]
                                 [--threads N] [--providers CUDAExecutionProvider ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.dlib_networks import read_network
from facegate.engine.onnx_engine import OnnxEngine, dlib_available
from facegate.engine.onnx_graphs import descriptor_flops
from facegate.engine.packs import PACKS
from facegate.engine.views import views_per_face
from facegate.images import Image, load_image

REPO = Path(__file__).resolve().parents[1]


def best_time(work: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def side_by_side(dlib_work: Callable[[], Any] | None, onnx_work: Callable[[], Any],
                 rounds: int) -> tuple[float | None, float]:
    """Best time of each, measured in alternating rounds (after one warm-up each)."""
    if dlib_work is not None:
        dlib_work()
    onnx_work()
    d_best, o_best = float("inf"), float("inf")
    for _ in range(rounds):
        if dlib_work is not None:
            d_best = min(d_best, best_time(dlib_work, 1))
        o_best = min(o_best, best_time(onnx_work, 1))
    return (d_best if dlib_work is not None else None), o_best


def matmul_peak(n: int = 2048, rounds: int = 3) -> float:
    """Measured float32 GFLOP/s of an n x n matrix product (numpy's BLAS, all cores)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    return 2 * n ** 3 / best_time(lambda: a @ b, rounds) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--lfw", type=int, default=40, help="LFW photos")
    parser.add_argument("--samples", type=int, default=6, help="larger sample photos")
    parser.add_argument("--cnn-images", type=int, default=4, help="photos for the CNN detector")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32, help="descriptor batch size")
    parser.add_argument("--threads", type=int, default=None,
                        help="ONNX Runtime intra-op threads (default: all cores)")
    parser.add_argument("--providers", nargs="*", default=None)
    parser.add_argument("--no-dlib", action="store_true", help="time the ONNX engine only")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "engine_speed.json")
    args = parser.parse_args()

    lfw = sorted((args.data / "lfw").glob("*/*.jpg"))[::97][:args.lfw]
    samples = [p for p in sorted((args.data / "samples").rglob("*.jpg"))
               if "liveness" not in p.parts][:args.samples]
    paths = lfw + samples
    use_dlib = dlib_available() and not args.no_dlib
    onnx = OnnxEngine(threads=args.threads, providers=args.providers, batch_size=args.batch)
    dlib_engine: Any = None
    if use_dlib:
        from facegate.engine.dlib_engine import DlibEngine

        dlib_engine = DlibEngine()
    rows: list[dict[str, Any]] = []

    def record(stage: str, items: int, unit: str, times: tuple[float | None, float]) -> None:
        d, o = times
        row = {"stage": stage, "items": items, "unit": unit,
               "dlib_per_s": None if d is None else items / d, "onnx_per_s": items / o,
               "ratio": None if d is None else d / o}
        rows.append(row)
        dlib_txt = "n/a" if d is None else f"{items / d:9.1f}"
        ratio_txt = "n/a" if d is None else f"{d / o:6.2f}x"
        print(f"{stage:<22} {items:>5} {unit:<7} dlib {dlib_txt:>9}/s   onnx "
              f"{items / o:9.1f}/s   ratio {ratio_txt}", flush=True)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"onnx threads: {args.threads or 'all'}; providers: {args.providers or ['CPU']}")
    record("decode", len(paths), "images",
           (None, best_time(lambda: [load_image(p) for p in paths], args.rounds)))
    images: list[Image] = [load_image(p) for p in paths]
    hog = DetectOptions(detector=DetectorChoice.HOG, upsample=1)
    faces = [(im, f) for im in images for f in (dlib_engine or onnx).detect(im, hog)]
    if use_dlib:
        record("detect-hog (dlib both)", len(images), "images", side_by_side(
            lambda: [dlib_engine.detect(im, hog) for im in images],
            lambda: [onnx.detect(im, hog) for im in images], args.rounds))
    cnn_images = [im for im in images[:args.cnn_images]]
    record("detect-cnn (mmod)", len(cnn_images), "images", side_by_side(
        (lambda: [dlib_engine._run_cnn(im.pixels, 1) for im in cnn_images]) if use_dlib else None,
        lambda: [onnx._run_cnn(im.pixels, 1) for im in cnn_images], 1))
    record("landmarks-5", len(faces), "faces", side_by_side(
        (lambda: [dlib_engine._shape(im, f.box, "sp5") for im, f in faces]) if use_dlib else None,
        lambda: [onnx._shape(im, f.box, "sp5") for im, f in faces], args.rounds))
    record("landmarks-68", len(faces), "faces", side_by_side(
        (lambda: [dlib_engine.landmarks68(im, f) for im, f in faces]) if use_dlib else None,
        lambda: [onnx.landmarks68(im, f) for im, f in faces], args.rounds))
    record("align", len(faces), "faces", side_by_side(
        (lambda: [dlib_engine.align(im, f) for im, f in faces]) if use_dlib else None,
        lambda: [onnx.align(im, f) for im, f in faces], args.rounds))
    chips = np.stack([onnx.align(im, f) for im, f in faces])
    session = onnx._model("resnet")
    resnet = dlib_engine._model("resnet") if use_dlib else None

    def dlib_single() -> None:
        for chip in chips:
            resnet.compute_face_descriptor(chip)

    def dlib_batched() -> None:
        resnet.compute_face_descriptor(list(chips))

    def onnx_single() -> None:
        for chip in chips:
            session.run(None, {"chips": chip[None]})

    def onnx_batched() -> None:
        for i in range(0, len(chips), args.batch):
            session.run(None, {"chips": chips[i:i + args.batch]})

    record("descriptor batch 1", len(chips), "chips",
           side_by_side(dlib_single if use_dlib else None, onnx_single, args.rounds))
    single_rate = rows[-1]["onnx_per_s"]
    record(f"descriptor batch {args.batch}", len(chips), "chips",
           side_by_side(dlib_batched if use_dlib else None, onnx_batched, args.rounds))
    batched_rate = rows[-1]["onnx_per_s"]
    if use_dlib:
        record("pipeline (hog)", len(images), "images", side_by_side(
            lambda: [dlib_engine.embed(im, dlib_engine.detect(im, hog)) for im in images],
            lambda: [onnx.embed(im, onnx.detect(im, hog)) for im in images], 1))

    net = read_network(onnx._path("resnet"))
    flops = descriptor_flops(net)
    peak = matmul_peak()
    views = views_per_face(onnx.pack)
    print(f"\ndescriptor network: {flops / 1e9:.3f} GFLOP per chip "
          f"({views * flops / 1e9:.3f} per face: {views} views, three paddings and their mirrors)")
    print(f"achieved: {flops * single_rate / 1e9:.1f} GFLOP/s at batch 1, "
          f"{flops * batched_rate / 1e9:.1f} GFLOP/s at batch {args.batch}; "
          f"numpy float32 matmul peak here: {peak:.1f} GFLOP/s "
          f"({100 * flops * batched_rate / 1e9 / peak:.0f}% of it)")
    print("(the numpy figure is what its BLAS reaches with its own kernel choice, e.g. an AVX2 "
          "kernel on an AVX-512 machine; ONNX Runtime can exceed it)")
    arcface = PACKS.get("faceplugin-arcface-v1")
    print("faceplugin-arcface-v1 pack:", "installed (not timed by this script yet)" if arcface
          else "not installed")
    result = {"rows": rows, "descriptor_gflop_per_chip": flops / 1e9,
              "achieved_gflops_batch1": flops * single_rate / 1e9,
              "achieved_gflops_batched": flops * batched_rate / 1e9,
              "numpy_matmul_peak_gflops": peak, "threads": args.threads,
              "providers": args.providers, "cpu_count": os.cpu_count()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
