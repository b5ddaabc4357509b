"""LFW descriptors for the 1:N benchmarks (``bench/identify.py``, ``bench/gallery.py``).

Every image under ``../shared/data/lfw`` (View 1: 4,992 images of 3,095
people) is described once with the pack's ``FaceAnalyzer`` (by default
dlib-resnet-v1) and ``DetectOptions(detector=DetectorChoice.AUTO)``: for dlib,
HOG, then dlib's CNN detector where HOG finds nothing; the face nearest the
image centre is used. Descriptors already in ``bench/lfw.py``'s cache (same
pack, same detection) are reused; the rest are computed and appended to that
cache.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LFW = REPO.parent / "shared" / "data" / "lfw"
OUT = REPO / "bench" / "out"
CACHE = OUT / "lfw-cache-dlib-resnet-v1-1.0-auto-up1-views0.25-0.2-0.3.jsonl"


def cache_path(pack_id: str) -> Path:
    """``bench/lfw.py``'s descriptor cache of ``pack_id``."""
    from facegate.engine.pack_install import find_pack

    pack = find_pack(pack_id)
    views = "-".join(f"{v:g}" for v in pack.view_paddings)
    name = f"{pack.id.replace('/', '--')}-{pack.version}-auto-up1-views{views}"
    return OUT / f"lfw-cache-{name}.jsonl"


def _centre_descriptor(analyzer: object, path: Path) -> list[float] | None:
    from facegate.analysis import FaceAnalyzer

    assert isinstance(analyzer, FaceAnalyzer)
    image = analyzer.load(path)
    faces = analyzer.engine.detect(image, analyzer.settings.detect)
    if not faces:
        return None
    cy, cx = image.height / 2, image.width / 2
    face = min(faces, key=lambda f: ((f.box.left + f.box.right) / 2 - cx) ** 2
               + ((f.box.top + f.box.bottom) / 2 - cy) ** 2)
    described = analyzer.engine.embed(image, [face])[0].descriptor
    return None if described is None else [float(x) for x in described.vector]


def load(lfw: Path = DEFAULT_LFW,
         pack: str = "dlib-resnet-v1") -> dict[str, list[tuple[str, npt.NDArray[np.float32]]]]:
    """``person -> [(relative path, unit descriptor)]`` for every image with a face."""
    cache = cache_path(pack)
    images = sorted(p.relative_to(lfw).as_posix() for p in lfw.glob("*/*.jpg"))
    cached: dict[str, list[float] | None] = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            row = json.loads(line)
            cached[row["image"]] = row["descriptor"]
    missing = [i for i in images if i not in cached]
    if missing:
        from facegate.analysis import AnalyzerSettings, FaceAnalyzer
        from facegate.engine.base import DetectOptions, DetectorChoice

        analyzer = FaceAnalyzer.for_pack(pack, settings=AnalyzerSettings(
            detect=DetectOptions(detector=DetectorChoice.AUTO)))
        OUT.mkdir(parents=True, exist_ok=True)
        with cache.open("a") as out:
            for n, rel in enumerate(missing, 1):
                cached[rel] = _centre_descriptor(analyzer, lfw / rel)
                out.write(json.dumps({"image": rel, "detector": "auto",
                                      "descriptor": cached[rel]}) + "\n")
                if n % 200 == 0:
                    print(f"  described {n}/{len(missing)}", flush=True)
    people: dict[str, list[tuple[str, npt.NDArray[np.float32]]]] = defaultdict(list)
    for rel in images:
        vector = cached.get(rel)
        if vector:
            v = np.asarray(vector, dtype=np.float32)
            people[rel.split("/")[0]].append((rel, v / np.linalg.norm(v)))
    return dict(people)
