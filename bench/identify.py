"""Open-set identification on LFW in the NIST FRTE style: FNIR at fixed FPIR.

Gallery: one image (the first by name) of every person with two or more
images. Mated probes: every other image of those people. Non-mated probes:
every image of the people with a single image, who are not enrolled. Each
probe is searched in the gallery through :class:`facegate.matching.index.GalleryIndex`
(exact search; the gallery is small). For a threshold ``T`` on the distance:

* FPIR(T): the share of non-mated probes whose nearest gallery entry lies
  within ``T`` (a stranger would get a candidate);
* FNIR(T): the share of mated probes whose own gallery entry is not the
  rank-1 candidate within ``T`` (the person would get ``no_match`` or someone
  else first).

The thresholds for FPIR 1% and 0.1% are set on the non-mated scores
themselves (the usual FRTE reading); with N non-mated probes an FPIR below
1/N cannot be measured, and the count of non-mated probes over ``T`` is
printed so the resolution is visible. Also printed: FNIR and FPIR at the
pack's default threshold, and the closed-set rank-1 rate.

Descriptors: ``FaceAnalyzer()`` (dlib-resnet-v1) with
``DetectOptions(detector=DetectorChoice.AUTO)``, cached in ``bench/out/``
(see ``bench/lfw_descriptors.py``).

Usage::

    python bench/identify.py            # every image under ../shared/data/lfw
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facegate.engine.pack_install import find_pack
from facegate.engine.packs import DEFAULT_PACK
from facegate.matching.index import GalleryIndex, IndexEntry
from lfw_descriptors import DEFAULT_LFW, OUT, load


def threshold_at(nonmated: np.ndarray, fpir: float) -> float:
    """The largest distance threshold whose FPIR on ``nonmated`` is at most ``fpir``."""
    ordered = np.sort(nonmated)
    allowed = int(np.floor(fpir * len(ordered)))  # strangers that may get a candidate
    if allowed == 0:
        return float(np.nextafter(ordered[0], -np.inf))
    return float(np.nextafter(ordered[allowed], -np.inf))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--pack", default=DEFAULT_PACK, help="model pack (installed)")
    args = parser.parse_args()
    people = load(args.lfw, args.pack)
    images = sum(len(v) for v in people.values())
    enrolled = sorted(p for p, v in people.items() if len(v) >= 2)
    singles = sorted(p for p, v in people.items() if len(v) == 1)
    index = GalleryIndex.build([IndexEntry(subject_id=p) for p in enrolled],
                               np.stack([people[p][0][1] for p in enrolled]), backend="exact")
    mated = [(p, v) for p in enrolled for _, v in people[p][1:]]
    strangers = np.stack([people[p][0][1] for p in singles])

    def top(vectors: np.ndarray) -> list[tuple[str, float]]:
        return [(n[0].subject_id, n[0].distance) for n in index.search(vectors, 1)]

    mated_top = top(np.stack([v for _, v in mated]))
    nonmated = np.array([d for _, d in top(strangers)])
    truth = [p for p, _ in mated]

    def fnir(t: float) -> float:
        return float(np.mean([not (s == p and d <= t)
                              for p, (s, d) in zip(truth, mated_top, strict=True)]))

    def fpir(t: float) -> float:
        return float(np.mean(nonmated <= t))

    default = find_pack(args.pack).default_threshold
    rank1 = float(np.mean([s == p for p, (s, _) in zip(truth, mated_top, strict=True)]))
    print(f"LFW under {args.lfw}: {images} images with a face, {len(people)} people")
    print(f"gallery: {len(enrolled)} people (one image each); mated probes: {len(mated)}; "
          f"non-mated probes: {len(strangers)} (people with one image, not enrolled)")
    print(f"closed-set rank-1 identification rate: {rank1:.4f}")
    rows = []
    for target in (0.01, 0.001):
        t = threshold_at(nonmated, target)
        rows.append({"fpir_target": target, "threshold": t, "fpir": fpir(t),
                     "false_positives": int(np.sum(nonmated <= t)), "fnir": fnir(t)})
        print(f"FPIR {target:.1%}: threshold {t:.4f} -> FPIR {fpir(t):.4f} "
              f"({int(np.sum(nonmated <= t))}/{len(nonmated)} strangers), "
              f"FNIR {fnir(t):.4f}")
    print(f"pack default threshold {default}: FPIR {fpir(default):.4f} "
          f"({int(np.sum(nonmated <= default))}/{len(nonmated)}), FNIR {fnir(default):.4f}")
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.pack == DEFAULT_PACK else "-" + args.pack.replace("/", "--")
    (OUT / f"identify{suffix}.json").write_text(json.dumps({
        "images": images, "gallery": len(enrolled), "mated": len(mated),
        "nonmated": len(strangers), "rank1": rank1, "at": rows,
        "default": {"threshold": default, "fpir": fpir(default), "fnir": fnir(default)}},
        indent=2))


if __name__ == "__main__":
    main()
