"""Before and after: what each change of the ArcFace pack's pipeline does to its error rates.

For every image of the East-Asian development set (folder layout: 1,432
portraits) and of LFW View 1 (4,992 images) the faceplugin pack's own front end
finds the faces; the primary face (largest confident one) is aligned and
described twice, as the chip and as its mirror image, and its quality measures
are kept. Where the detector finds nothing, the image is tried again inside a
black border of 30% of its side on each edge (the padded retry); where that
finds nothing too, dlib's MMOD detector (the ONNX one) is tried, with the
pack's landmark model on its box (the turned-face fallback). Everything is
cached in ``bench/out/pipeline-*.jsonl`` so the variants below are scored
offline from one pass:

* ``baseline``: the pack as shipped before these changes (own detector only,
  chip descriptor, no retry);
* ``+padded``: the padded retry where the detector found nothing;
* ``+fallback``: the turned-face fallback detector after that;
* ``+mirror``: the unit mean of the chip's and the mirror chip's descriptors;
* ``+gate``: probes failing the enrollment quality checks are not decided
  (counted apart, not as errors);
* ``multi-k``: a subject enrolled from k photos (people with three or more
  photos; each photo as the probe against every k-combination of the other
  photos of its person), score = smallest distance, impostor score = smallest
  distance to another person's first k photos; FNMR at this protocol's own
  FMR-0.1% threshold and FMR/FNMR at the shipped ``east-asian-adults``
  threshold. (A subject with k templates has about k chances of a false
  match; verification therefore uses the calibration's threshold at FMR
  0.1% / k, see ``facegate.calibration.models.threshold_for_templates``.)

FNMR at fixed FMR on both protocols: ``pairs.tsv`` (1,658 same / 3,000
different) and every pair of the folder layout (1,658 same / about 1.02
million different). Intervals are 95% Wilson.

Usage::

    python bench/pipeline.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.calibration.models import wilson

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
F64 = npt.NDArray[np.float64]



def rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{100 * k / max(n, 1):6.2f}% [{100 * lo:.2f}-{100 * hi:.2f}] ({k}/{n})"


def describe(root: Path, images: list[str], cache: Path) -> dict[str, dict[str, Any]]:
    """One pass over ``images``: detection route, two descriptors, quality measures."""
    from facegate.analysis import FaceAnalyzer
    from facegate.engine.arcface import align_chip, five_from_68
    from facegate.engine.arcface_engine import ArcfaceEngine
    from facegate.engine.base import DetectOptions, DetectorChoice
    from facegate.engine.faces import DetectorKind, Face, Landmarks, LandmarkScheme
    from facegate.engine.onnx_engine import OnnxEngine
    from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1
    from facegate.images import Image
    from facegate.quality import QualitySettings, assess_face, is_confident

    done: dict[str, dict[str, Any]] = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            row = json.loads(line)
            done[row["image"]] = row
    todo = [i for i in images if i not in done]
    if not todo:
        return done
    engine = ArcfaceEngine(FACEPLUGIN_ARCFACE_V1, threads=1)
    analyzer = FaceAnalyzer(engine)
    mmod = OnnxEngine(threads=1)
    settings = QualitySettings()
    detector = engine._models.get("detector")

    def faceplugin(pixels: npt.NDArray[np.uint8]) -> list[Any]:
        return list(detector.detect(pixels))

    started = time.time()
    with cache.open("a") as out:
        for n, rel in enumerate(todo, 1):
            image = analyzer.load(root / rel)
            route = "own"
            found = faceplugin(image.pixels)
            offset = (0, 0)
            work = image
            if not found:
                h, w = image.pixels.shape[:2]
                py, px = round(0.3 * h), round(0.3 * w)
                padded = np.zeros((h + 2 * py, w + 2 * px, 3), dtype=np.uint8)
                padded[py:py + h, px:px + w] = image.pixels
                found = faceplugin(padded)
                if found:
                    route, offset = "padded", (px, py)
                    work = Image(pixels=np.ascontiguousarray(padded),
                                 source_format=image.source_format)
            faces: list[Face] = []
            for box, score in found:
                pts = engine._models.get("landmarks").predict(work.pixels, box)
                faces.append(Face(box=box, score=score, detector=DetectorKind.FACEPLUGIN,
                                  landmarks=Landmarks(LandmarkScheme.FIVE, ((0.0, 0.0),)),
                                  landmarks68=Landmarks(LandmarkScheme.SIXTY_EIGHT, tuple(
                                      (float(x), float(y)) for x, y in pts))))
            if not faces:
                boxes = mmod.detect(image, DetectOptions(detector=DetectorChoice.CNN, upsample=0,
                                                         max_side=640))
                for f in boxes:
                    # the landmark model was trained on its detector's square boxes: a
                    # square around the dlib box's centre, 1.3x its height
                    from facegate.engine.faces import Box
                    cx, cy = f.box.center
                    side = 1.3 * max(f.box.width, f.box.height)
                    sq = Box(round(cx - side / 2), round(cy - side / 2 + 0.1 * side),
                             round(cx + side / 2), round(cy + side / 2 + 0.1 * side))
                    pts = engine._models.get("landmarks").predict(image.pixels, sq)
                    faces.append(Face(box=f.box, score=f.score, detector=DetectorKind.CNN,
                                      landmarks=f.landmarks,
                                      landmarks68=Landmarks(LandmarkScheme.SIXTY_EIGHT, tuple(
                                          (float(x), float(y)) for x, y in pts))))
                if faces:
                    route = "fallback"
            row: dict[str, Any] = {"image": rel, "route": route if faces else "none"}
            if faces:
                faces.sort(key=lambda f: -f.box.area)
                confident = [f for f in faces if is_confident(f, settings)]
                face = confident[0] if confident else faces[0]
                assert face.landmarks68 is not None
                pts68 = face.landmarks68.as_array()
                chip = align_chip(work.pixels, five_from_68(pts68), 112)
                vecs = engine.describe_chips(np.stack([chip, chip[:, ::-1]]))
                report = assess_face(face, chip, face.landmarks68, settings)
                row.update({
                    "plain": [round(float(v), 6) for v in vecs[0]],
                    "mirror": [round(float(v), 6) for v in vecs[1]],
                    "metrics": {k: round(float(v), 3) for k, v in report.metrics.items()},
                    "reasons": [r.value for r in report.reasons],
                    "offset": offset,
                })
            done[rel] = row
            out.write(json.dumps(row) + "\n")
            if n % 200 == 0:
                rate_s = (time.time() - started) / n
                print(f"  {cache.name}: {n}/{len(todo)} ({rate_s * 1000:.0f} ms/image)",
                      flush=True)
    return done


def unit(v: F64) -> F64:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def vectors(rows: dict[str, dict[str, Any]], images: list[str], variant: set[str]
            ) -> tuple[F64, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Descriptors under ``variant``, which images have one, which pass quality."""
    mat = np.zeros((len(images), 512))
    ok = np.zeros(len(images), dtype=bool)
    good = np.zeros(len(images), dtype=bool)
    for i, rel in enumerate(images):
        row = rows[rel]
        route = row["route"]
        if route == "none" or (route == "padded" and "padded" not in variant) or (
                route == "fallback" and "fallback" not in variant):
            continue
        v = np.asarray(row["plain"])
        if "mirror" in variant:
            v = v + np.asarray(row["mirror"])
        mat[i] = v / np.linalg.norm(v)
        ok[i] = True
        good[i] = not row["reasons"]
    return mat, ok, good


def threshold_at(imp: F64, fmr: float) -> float:
    s = np.sort(imp)
    k = math.floor(fmr * s.size + 1e-9)
    return float((s[k - 1] + s[k]) / 2) if k >= 1 else float(s[0]) * (1 - 1e-9)


def score(name: str, gen: F64, imp: F64, fmrs: tuple[float, ...], note: str = "") -> None:
    parts = []
    for f in fmrs:
        if imp.size * f < 1:
            parts.append(f"FMR {f:g}: n/a")
            continue
        t = threshold_at(imp, f)
        k = int(np.count_nonzero(~(gen <= t)))
        parts.append(f"t={t:.4f} FNMR@{f:g} {rate(k, gen.size)}")
    print(f"  {name:<34} {' | '.join(parts)} {note}")


def pair_scores(mat: F64, ok: npt.NDArray[np.bool_], a: npt.NDArray[np.intp],
                b: npt.NDArray[np.intp]) -> F64:
    d = np.full(a.size, np.inf)
    both = ok[a] & ok[b]
    step = 1 << 16
    for s in range(0, a.size, step):
        sl = slice(s, s + step)
        diff = mat[a[sl]] - mat[b[sl]]
        d[sl] = np.where(both[sl], np.sqrt(np.einsum("ij,ij->i", diff, diff)), np.inf)
    return d


def eastasian(data: Path, limit: int | None) -> None:
    root = data / "eastasian" / "thefamouspeople_eastasian"
    images = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.jpg"))
    if limit:
        images = images[:limit]
    rows = describe(root, images, OUT / "pipeline-faceplugin-eastasian.jsonl")
    index = {im: i for i, im in enumerate(images)}
    person = np.array([im.split("/")[0] for im in images])
    routes = {r: sum(1 for im in images if rows[im]["route"] == r)
              for r in ("own", "padded", "fallback", "none")}
    failing = sum(1 for im in images if rows[im]["route"] != "none" and rows[im]["reasons"])
    print(f"East-Asian set: {len(images)} images; faces by route {routes}; "
          f"{failing} primary faces fail the enrollment quality checks")
    pairs = [line.split("\t") for line in (root / "pairs.tsv").read_text().splitlines() if line]
    pairs = [p for p in pairs if p[0] in index and p[1] in index]
    pa = np.array([index[p[0]] for p in pairs])
    pb = np.array([index[p[1]] for p in pairs])
    psame = np.array([p[2].strip() == "1" for p in pairs])
    aa, bb = np.triu_indices(len(images), k=1)
    asame = person[aa] == person[bb]
    variants: list[tuple[str, set[str]]] = [
        ("baseline", set()), ("+padded", {"padded"}), ("+padded+fallback", {"padded", "fallback"}),
        ("+mirror", {"mirror"}), ("+padded+fallback+mirror", {"padded", "fallback", "mirror"})]
    for label, (a, b, same) in (("pairs.tsv", (pa, pb, psame)), ("all pairs", (aa, bb, asame))):
        print(f"\nprotocol {label}: {int(same.sum())} same-person, {int((~same).sum())} "
              "different-person pairs")
        for name, variant in variants:
            mat, ok, good = vectors(rows, images, variant)
            d = pair_scores(mat, ok, a, b)
            score(name, d[same], d[~same], (1e-2, 1e-3, 1e-4))
            if name in ("baseline", "+mirror"):
                gated = good[a] & good[b]
                score(name + " +gate", d[same & gated], d[~same & gated], (1e-3, 1e-4),
                      note=f"(gate holds back {int((same & ~gated).sum())} same / "
                           f"{int((~same & ~gated).sum())} different pairs)")
    # several enrollment photos: persons with at least 3 photos
    from facegate.calibration.shipped import shipped_calibration
    from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1 as fp

    found = shipped_calibration(fp.id, fp.version, "east-asian-adults")
    assert found is not None
    shipped = found.threshold
    print("\nseveral enrollment photos (persons with >= 3 photos; probe = one photo, "
          "templates = up to k others of its person; impostors = probe against every other "
          "person's templates; score = smallest distance)")
    for variant in ({"padded", "fallback"}, {"padded", "fallback", "mirror"}):
        mat, ok, good = vectors(rows, images, variant)
        by_person: dict[str, list[int]] = {}
        for i, p in enumerate(person):
            if ok[i]:
                by_person.setdefault(str(p), []).append(i)
        multi = {p: ix for p, ix in by_person.items() if len(ix) >= 3}
        for k in (1, 2):
            for gate in (False, True):
                gen: list[float] = []
                galleries: list[tuple[str, list[int]]] = []
                probes: list[tuple[str, int]] = []
                for p, ix in multi.items():
                    for probe in ix:
                        others = [i for i in ix if i != probe]
                        if gate:
                            others = [i for i in others if good[i]] or []
                            if not good[probe]:
                                continue
                        if len(others) < k:
                            continue
                        for templ in itertools.combinations(others, k):
                            gen.append(float(np.min(np.linalg.norm(
                                mat[list(templ)] - mat[probe], axis=1))))
                        probes.append((p, probe))
                    enrolled = [i for i in ix if good[i]] if gate else ix
                    if len(enrolled) >= k:
                        galleries.append((p, enrolled[:k]))
                imp: list[float] = []
                gal_p = [g[0] for g in galleries]
                gal_m = [mat[g[1]] for g in galleries]
                for p, probe in probes:
                    for gp, gm in zip(gal_p, gal_m, strict=True):
                        if gp != p:
                            imp.append(float(np.min(np.linalg.norm(gm - mat[probe], axis=1))))
                name = (f"k={k} {'mirror' if 'mirror' in variant else 'plain'}"
                        f"{' +gate' if gate else ''}")
                g, i = np.asarray(gen), np.asarray(imp)
                fm = int(np.count_nonzero(i <= shipped))
                fn = int(np.count_nonzero(~(g <= shipped)))
                for_k = found.threshold_for(k)
                assert for_k is not None
                fm_k = int(np.count_nonzero(i <= for_k))
                fn_k = int(np.count_nonzero(~(g <= for_k)))
                score(name, g, i, (1e-3,), note=f"| at the shipped {shipped:.4f}: FMR "
                      f"{rate(fm, i.size)} FNMR {rate(fn, g.size)} | at the threshold for "
                      f"{k} template(s) {for_k:.4f}: FMR {rate(fm_k, i.size)} FNMR "
                      f"{rate(fn_k, g.size)}")


def lfw(data: Path, limit: int | None) -> None:
    root = data / "lfw"
    lines = []
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt"):
        rows = [r.split() for r in (root / name).read_text().splitlines()[1:] if r.strip()]
        lines.append([((f"{r[0]}/{r[0]}_{int(r[1]):04d}.jpg", f"{r[0]}/{r[0]}_{int(r[2]):04d}.jpg",
                        True) if len(r) == 3 else
                       (f"{r[0]}/{r[0]}_{int(r[1]):04d}.jpg", f"{r[2]}/{r[2]}_{int(r[3]):04d}.jpg",
                        False)) for r in rows])
    images = sorted({x for part in lines for p in part for x in p[:2]})
    if limit:
        images = images[:limit]
    rows = describe(root, images, OUT / "pipeline-faceplugin-lfw.jsonl")
    index = {im: i for i, im in enumerate(images)}
    print(f"\nLFW View 1: {len(images)} images; faces by route "
          f"{ {r: sum(1 for im in images if rows[im]['route'] == r) for r in ('own', 'padded', 'fallback', 'none')} }")  # noqa: E501
    for name, variant in (("baseline", set()), ("+mirror", {"mirror"}),
                          ("+padded+fallback+mirror", {"padded", "fallback", "mirror"})):
        mat, ok, _ = vectors(rows, images, variant)
        out = []
        for part in lines:
            kept = [p for p in part if p[0] in index and p[1] in index]
            a = np.array([index[p[0]] for p in kept])
            b = np.array([index[p[1]] for p in kept])
            same = np.array([p[2] for p in kept])
            out.append((pair_scores(mat, ok, a, b), same))
        (dtr, str_), (dte, ste) = out
        t = threshold_at(dtr[~str_], 1e-3)
        fm = int(np.count_nonzero(dte[~ste] <= t))
        fn = int(np.count_nonzero(~(dte[ste] <= t)))
        print(f"  {name:<26} DevTrain FMR-0.001 threshold {t:.4f}; DevTest FMR "
              f"{rate(fm, int((~ste).sum()))} FNMR {rate(fn, int(ste.sum()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sets", default="eastasian,lfw")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()
    if "eastasian" in args.sets:
        eastasian(args.data, args.limit)
    if "lfw" in args.sets:
        lfw(args.data, args.limit)
    print(f"\nelapsed {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
