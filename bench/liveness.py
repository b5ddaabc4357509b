"""Liveness evaluation: APCER and BPCER (ISO/IEC 30107-3) on what exists.

Attack presentations (APCER: the share of attacks accepted as live):

* generated from real photos of ``../shared/data/samples`` (each photo a flat
  print held in front of the camera): ``static`` (held still), ``slid``
  (moved across the frame), ``rotated`` (turned in the image plane),
  ``perspective`` (the print turned left and right about its vertical axis,
  so the landmarks' yaw changes as a head's would), ``blink`` (the print turned
  as in ``perspective`` while the eye region alone is squashed shut and
  reopened, a manipulated flat photo) and ``perspective_blink`` (both);
* every attack is answered to every challenge order (2 and 3 actions:
  12 orders), and counts as accepted when any order passes;
* the passive network alone on the full-frame print and screen samples.

Bona fide presentations (BPCER: the share of genuine attempts refused): no
decodable genuine video exists here (``real2.webm`` needs a video decoder
that is not installed), so the only genuine material is still frames: the
one real full frame and ordinary identity photos, scored by the passive
network alone. The active checks have **no** genuine sequence to be measured
on, and none is faked; their BPCER is reported as not measured.

Run::

    PYTHONPATH=src python bench/liveness.py [--photos N] [--pack faceplugin-arcface-v1]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageOps

from facegate.analysis import FaceAnalyzer
from facegate.images import Image, load_image
from facegate.liveness.challenges import Action
from facegate.liveness.checker import LivenessSettings, judge, observe
from facegate.liveness.frames import Frame
from facegate.liveness.passive import PassiveScorer, passive_scorer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "samples"
ATTACKS = ("static", "slid", "rotated", "perspective", "blink", "perspective_blink")
ORDERS: tuple[tuple[Action, ...], ...] = tuple(
    p for k in (2, 3) for p in itertools.permutations(tuple(Action), k))

Pixels = npt.NDArray[np.uint8]


# -- attack sequences from a flat photo ---------------------------------------------------

def _coefficients(src: list[tuple[float, float]],
                  dst: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE coefficients mapping output points ``dst`` to input points ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float))]


def turn_print(pixels: Pixels, degrees: float, *, shift: tuple[float, float] = (0.0, 0.0),
               roll: float = 0.0) -> Pixels:
    """The photo as a flat print turned ``degrees`` about its vertical axis (pinhole
    camera, focal length twice the width), then slid by ``shift`` pixels and rolled."""
    h, w = pixels.shape[:2]
    f = 2.0 * w
    t = math.radians(degrees)
    corners = [(0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0)]
    cx, cy = w / 2.0, h / 2.0
    moved = []
    for x, y in corners:
        xr, zr = (x - cx) * math.cos(t), (x - cx) * math.sin(t)
        s = f / (f + zr)
        px, py = cx + xr * s, cy + (y - cy) * s
        r = math.radians(roll)
        dx, dy = px - cx, py - cy
        px, py = cx + dx * math.cos(r) - dy * math.sin(r), cy + dx * math.sin(r) + dy * math.cos(r)
        moved.append((px + shift[0], py + shift[1]))
    out = PILImage.fromarray(pixels).transform(
        (w, h), PILImage.Transform.PERSPECTIVE, _coefficients(corners, moved),
        PILImage.Resampling.BILINEAR, fillcolor=(128, 128, 128))
    return np.asarray(out, dtype=np.uint8)


def squash_eyes(pixels: Pixels, eyes: list[tuple[float, float, float]], amount: float) -> Pixels:
    """Close the eyes of a flat photo by warping only the eye regions.

    ``eyes`` are (centre x, centre y, eye width). Each eye's band is replaced,
    in proportion ``amount`` (0 open, 1 shut), by a vertical blend of the skin
    rows just above and below it, as a lid would cover it.
    """
    out = pixels.astype(np.float64)
    for cx, cy, width in eyes:
        left, right = int(cx - 0.75 * width), int(cx + 0.75 * width)
        top, bottom = int(cy - 0.35 * width), int(cy + 0.35 * width)
        if top < 1 or left < 0 or bottom >= pixels.shape[0] - 1 or right >= pixels.shape[1]:
            continue
        upper, lower = out[top - 1, left:right], out[bottom + 1, left:right]
        t = np.linspace(0.0, 1.0, bottom - top)[:, None, None]
        lid = upper[None] * (1 - t) + lower[None] * t
        out[top:bottom, left:right] = out[top:bottom, left:right] * (1 - amount) + lid * amount
    return np.clip(out, 0, 255).astype(np.uint8)


def attack_frames(kind: str, pixels: Pixels,
                  eyes: list[tuple[float, float, float]] | None = None) -> list[Frame]:
    """A 20-frame answer at 10 frames/s made by manipulating one flat photo."""
    frames: list[Pixels] = []
    w = pixels.shape[1]
    for i in range(20):
        phase = i / 19.0
        swing = 40.0 * math.sin(2 * math.pi * phase)  # left, back, right, back
        blink = max(0.0, 1.0 - abs(i - 4) / 2.0) + max(0.0, 1.0 - abs(i - 15) / 2.0)
        if kind == "static":
            img = pixels
        elif kind == "slid":
            img = turn_print(pixels, 0.0, shift=(0.15 * w * math.sin(2 * math.pi * phase), 0.0))
        elif kind == "rotated":
            img = turn_print(pixels, 0.0, roll=20.0 * math.sin(2 * math.pi * phase))
        elif kind == "perspective":
            img = turn_print(pixels, swing)
        elif kind == "blink":
            img = squash_eyes(pixels, eyes or [], min(blink, 1.0))
        elif kind == "perspective_blink":
            img = turn_print(squash_eyes(pixels, eyes or [], min(blink, 1.0)), swing)
        else:
            raise ValueError(kind)
        frames.append(img)
    return [Frame(at=i / 10.0, image=Image(pixels=f, source_format="generated"))
            for i, f in enumerate(frames)]


def eye_regions(analyzer: FaceAnalyzer, image: Image) -> list[tuple[float, float, float]]:
    """(centre x, centre y, width) of both eyes of the primary face."""
    face = analyzer.detect(image, landmarks68=True)[0]
    assert face.landmarks68 is not None
    pts = face.landmarks68.as_array()
    out = []
    for eye in (pts[36:42], pts[42:48]):
        out.append((float(eye[:, 0].mean()), float(eye[:, 1].mean()),
                    float(eye[:, 0].max() - eye[:, 0].min())))
    return out


# -- evaluation ---------------------------------------------------------------------------

def identity_photos(limit: int) -> Iterator[Path]:
    with (SAMPLES / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["task"] == "identity"]
    seen: set[str] = set()
    for row in rows:
        group = row["same_photo_group"] or row["path"]
        if group in seen or not row["path"].lower().endswith((".jpg", ".jpeg", ".png")):
            continue
        seen.add(group)
        yield SAMPLES / row["path"]
        if len(seen) >= limit:
            return


def _upright(path: Path) -> Image:
    with PILImage.open(path) as im:
        return Image(pixels=np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.uint8),
                     source_format="jpeg")


def rate(errors: int, attempts: int) -> str:
    return f"{errors / attempts:.3f} ({errors}/{attempts})" if attempts else "not measured (0)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=8, help="real photos to attack with")
    parser.add_argument("--pack", default=None, help="model pack of the engine (default pack)")
    args = parser.parse_args(argv)
    analyzer = FaceAnalyzer.for_pack(args.pack) if args.pack else FaceAnalyzer()
    scorer: PassiveScorer | None = passive_scorer()
    settings = LivenessSettings()
    print(f"engine pack: {analyzer.pack.id}; passive network: "
          f"{'installed' if scorer else 'not installed (active checks only)'}")
    accepted = {k: 0 for k in ATTACKS}
    attempts = {k: 0 for k in ATTACKS}
    accepted_planar_off = {k: 0 for k in ATTACKS}
    residuals: dict[str, list[float]] = {k: [] for k in ATTACKS}
    for path in identity_photos(args.photos):
        image = load_image(path)
        if not analyzer.detect(image):
            continue
        eyes = eye_regions(analyzer, image)
        for kind in ATTACKS:
            obs = observe(attack_frames(kind, image.pixels, eyes), analyzer, passive=scorer,
                          settings=settings)
            results = [judge(order, obs, settings) for order in ORDERS]
            attempts[kind] += 1
            accepted[kind] += any(r.passed for r in results)
            residuals[kind].append(results[0].scores["planar_residual"])
            no_planar = [r for r in results
                         if all(x.startswith(("planar", "passive")) for x in r.reasons)]
            accepted_planar_off[kind] += bool(no_planar)
    print("\nActive check, attacks generated from flat photos "
          "(accepted = any of the 12 challenge orders passes):")
    print(f"{'attack':<18} {'APCER':>16} {'APCER w/o planar+passive':>26} "
          f"{'max planar residual':>20}")
    for kind in ATTACKS:
        print(f"{kind:<18} {rate(accepted[kind], attempts[kind]):>16} "
              f"{rate(accepted_planar_off[kind], attempts[kind]):>26} "
              f"{max(residuals[kind], default=0.0):>20.4f}")
    total = sum(attempts.values())
    print(f"{'all generated':<18} {rate(sum(accepted.values()), total):>16}")
    print(f"planar_min = {settings.planar_min}")
    print("\nActive check BPCER: not measured (0 genuine sequences: no decodable genuine video)")
    if scorer is None:
        print("\nPassive network not installed: no passive figures.")
        return 0
    print(f"\nPassive network alone on full frames (live when score >= {settings.passive_min}):")
    folder = SAMPLES / "liveness/silent_face_anti_spoofing/images/sample"
    spoof_ok = spoof_n = real_bad = real_n = 0
    for name, live in (("image_F1.jpg", False), ("image_F2.jpg", False), ("image_T1.jpg", True)):
        img = _upright(folder / name)
        faces = analyzer.detect(img)
        score = scorer.score(img.pixels, faces[0].box) if faces else 0.0
        print(f"  {name}: {'real' if live else 'spoof'} score {score:.3f}")
        if live:
            real_n += 1
            real_bad += score < settings.passive_min
        else:
            spoof_n += 1
            spoof_ok += score >= settings.passive_min
    photo_n = photo_bad = 0
    for path in identity_photos(200):
        img = load_image(path)
        faces = analyzer.detect(img)
        if not faces:
            continue
        photo_n += 1
        photo_bad += scorer.score(img.pixels, faces[0].box) < settings.passive_min
    print(f"  APCER (print + screen frames): {rate(spoof_ok, spoof_n)}")
    print(f"  BPCER (real camera frame): {rate(real_bad, real_n)}")
    print(f"  BPCER (identity photos as bona fide stills): {rate(photo_bad, photo_n)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
