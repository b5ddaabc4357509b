"""Engine speed per stage, on real images: the baseline for later speed work.

For each stage (decode, HOG detection, CNN detection, 5- and 68-point
landmarks, alignment, descriptor) it prints faces (or images) per second and
milliseconds per item, measured in this one run on one core.

Usage::

    python bench/engine_speed.py            # 200 LFW images and the sample photos
    python bench/engine_speed.py --images 50
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.dlib_engine import DlibEngine
from facegate.engine.faces import Face
from facegate.images import Image, load_image

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def pick_images(count: int) -> list[Path]:
    lfw = sorted((DATA / "lfw").glob("*/*.jpg"))
    step = max(1, len(lfw) // max(1, count))
    return lfw[::step][:count]


def timed(label: str, items: int, fn: Callable[[], object], unit: str = "face") -> float:
    fn()  # warm up: load models, fill caches
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    rate = items / elapsed if elapsed else float("inf")
    print(f"{label:<34} {rate:9.1f} {unit}s/s  {1000 * elapsed / max(items, 1):8.2f} ms/{unit}")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description="Engine speed per stage.")
    parser.add_argument("--images", type=int, default=200, help="how many LFW images")
    args = parser.parse_args()
    if not (DATA / "lfw").is_dir():
        print(f"{DATA / 'lfw'} not found", file=sys.stderr)
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    paths = pick_images(args.images)
    raw = [p.read_bytes() for p in paths]
    engine = DlibEngine()
    images: list[Image] = [load_image(b) for b in raw]
    hog = DetectOptions(detector=DetectorChoice.HOG, upsample=1)
    cnn = DetectOptions(detector=DetectorChoice.CNN, upsample=0)
    pairs: list[tuple[Image, Face]] = []
    for image in images:
        faces = engine.detect(image, hog)
        if faces:
            pairs.append((image, faces[0]))
    n_img, n_face = len(images), len(pairs)
    print(f"{n_img} LFW images (250x250), {n_face} with a face; one process, dlib-bin wheel\n")
    timed("decode (JPEG -> RGB)", n_img, lambda: [load_image(b) for b in raw], "image")
    timed("detect, HOG, 1 upsample", n_img, lambda: [engine.detect(i, hog) for i in images],
          "image")
    few = images[: max(1, n_img // 10)]
    timed("detect, CNN (MMOD), no upsample", len(few),
          lambda: [engine.detect(i, cnn) for i in few], "image")
    timed("landmarks, 68-point", n_face, lambda: [engine.landmarks68(i, f) for i, f in pairs])
    timed("align (150x150 chip)", n_face, lambda: [engine.align(i, f) for i, f in pairs])
    views = 2 * len(engine.pack.view_paddings)
    timed(f"descriptor ({views} views averaged)", n_face,
          lambda: [engine.embed(i, [f]) for i, f in pairs])
    big = [load_image(p) for p in sorted((DATA / "samples" / "identity").rglob("*.jpg"))[:20]]
    sizes = np.array([i.width * i.height for i in big])
    print(f"\n{len(big)} sample photos, median {np.median(sizes) / 1e6:.1f} MP")
    timed("detect, HOG, photos (max side 1280)", len(big),
          lambda: [engine.detect(i, hog) for i in big], "image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
