"""Liveness evaluation: APCER and BPCER (ISO/IEC 30107-3) on what exists.

Attack presentations (APCER: the share of attacks accepted as live):

* generated from real photos of ``../shared/data/samples`` (each photo a flat
  print held in front of the camera): ``static`` (held still), ``slid``
  (moved across the frame), ``rotated`` (turned in the image plane),
  ``perspective`` (the print turned left and right about its vertical axis,
  so the landmarks' yaw changes as a head's would), ``blink`` (the print turned
  as in ``perspective`` while the eye region alone is squashed shut and
  reopened, a manipulated flat photo) and ``perspective_blink`` (both);
  every attack is answered to every challenge order (2 and 3 actions:
  12 orders), and counts as accepted when any order passes;
* ``fake2.webm``, a real replay attack (a phone screen playing a video of the
  person turning his head, filmed by a webcam), decoded and cut into
  non-overlapping windows, each window one attempt;
* the passive network alone on the full-frame print and screen samples and on
  the 617 cropped screen-replay frames.

Bona fide presentations (BPCER: the share of genuine attempts refused):

* ``real2.webm``, a genuine webcam video of the same person turning his head
  (not answering any challenge), cut into the same windows: each signal
  check that does not depend on which action was asked (one face, the same
  face, the planar residual at the widest turn, the passive score) is
  measured on it. The **active action checks** (blink and turns in the asked
  order) cannot have a BPCER here: that needs recordings of genuine people
  answering issued challenges, which do not exist, and none are faked;
* the eye aspect ratio over all 214 frames of ``real2.webm``, to see whether
  real blinks register with the engine's landmarks and under the judge's
  frontal-pose gate;
* the passive network alone on the one real full frame, ordinary identity
  photos as bona fide stills and the 214 cropped genuine frames.

Run::

    PYTHONPATH=src python bench/liveness.py [--photos N] [--window S] [--skip-photos]
        [--pack faceplugin-arcface-v1]

The video sections need PyAV (the ``video`` extra).
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
from facegate.engine.faces import Box
from facegate.errors import VideoDecoderMissing
from facegate.images import Image, load_image
from facegate.liveness.challenges import Action
from facegate.liveness.checker import (
    FrameObservation,
    LivenessResult,
    LivenessSettings,
    Observations,
    judge,
    observe,
)
from facegate.liveness.frames import Frame
from facegate.liveness.passive import PassiveScorer, passive_scorer
from facegate.liveness.video import VideoLimits, read_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "samples"
OPENCV = SAMPLES / "liveness" / "liveness_detection_opencv"
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



# -- the genuine and replay videos --------------------------------------------------------

SIGNALS = ("face", "identity", "timing", "planar", "passive")
LONG = VideoLimits(max_frames=10_000, max_duration=60.0, max_decoded=10_000)


def windows(frames: list[Frame], seconds: float) -> list[list[Frame]]:
    """Non-overlapping windows of ``seconds``, each re-timed to start at 0; only full ones."""
    out: list[list[Frame]] = []
    start = 0.0
    while True:
        part = [f for f in frames if start <= f.at < start + seconds]
        if not part or frames[-1].at < start + seconds - 1e-6:
            return out
        out.append([Frame(at=f.at - part[0].at, image=f.image) for f in part])
        start += seconds


def signal_failures(result: LivenessResult) -> set[str]:
    """Which of the checks that do not depend on the asked actions refused."""
    return {r.split(":", 1)[0] for r in result.reasons} & set(SIGNALS)


def turn_span(obs: Observations) -> float:
    yaws = [f.yaw for f in obs.frames if f.face]
    return max((abs(y - yaws[0]) for y in yaws), default=0.0)


def evaluate_video(path: Path, analyzer: FaceAnalyzer, scorer: PassiveScorer | None,
                   settings: LivenessSettings, seconds: float,
                   fps: float) -> list[tuple[float, Observations, list[LivenessResult]]]:
    """Each window's start, observations and results for the 12 orders."""
    frames = read_video(path, fps=fps, limits=LONG)
    out = []
    for k, window in enumerate(windows(frames, seconds)):
        obs = observe(window, analyzer, passive=scorer, settings=settings)
        out.append((k * seconds, obs, [judge(order, obs, settings) for order in ORDERS]))
    return out


def print_windows(name: str, rows: list[tuple[float, Observations, list[LivenessResult]]],
                  settings: LivenessSettings) -> None:
    print(f"  {name}:")
    print(f"  {'start':>6} {'faces':>6} {'turn':>6} {'planar':>7} {'passive':>8} "
          f"{'id dist':>8}  refused by / actions seen")
    for start, obs, results in rows:
        r = results[0]
        sc = r.scores
        refused = ",".join(sorted(signal_failures(r))) or "-"
        passive = "-" if sc["passive_live"] is None else f"{sc['passive_live']:.3f}"
        print(f"  {start:>5.1f}s {sc['faces']:>3}/{sc['frames']:<2} {turn_span(obs):>5.1f}° "
              f"{sc['planar_residual']:>7.4f} {passive:>8} {sc['identity_max_distance']:>8.4f}"
              f"  {refused} / {', '.join(r.actions_seen) or 'none'}")


def print_video_rates(real: list[tuple[float, Observations, list[LivenessResult]]],
                      fake: list[tuple[float, Observations, list[LivenessResult]]],
                      settings: LivenessSettings) -> None:
    def refused(rows: list[tuple[float, Observations, list[LivenessResult]]],
                checks: set[str], turned_only: bool = False) -> tuple[int, int]:
        picked = [(o, r) for _, o, r in rows
                  if not turned_only or turn_span(o) >= settings.turn_degrees]
        return sum(bool(signal_failures(r[0]) & checks) for _, r in picked), len(picked)

    lines = [
        ("face: a face in every frame, no second", {"face"}, False),
        ("identity: one face throughout", {"identity"}, False),
        ("timing", {"timing"}, False),
        ("planar, every window", {"planar"}, False),
        (f"planar, windows with a >={settings.turn_degrees:.0f}° turn", {"planar"}, True),
        ("passive (mean live score)", {"passive"}, False),
        ("all of these together", set(SIGNALS), False),
    ]
    print(f"\n  {'check':<42} {'BPCER real2 (refused)':>22} {'APCER fake2 (let through)':>26}")
    for label, checks, turned in lines:
        rb, rn = refused(real, checks, turned)
        fb, fn = refused(fake, checks, turned)
        print(f"  {label:<42} {rate(rb, rn):>22} {rate(fn - fb, fn):>26}")
    accepted = sum(any(x.passed for x in r) for _, _, r in fake)
    would = sum(any(x.passed for x in r) for _, _, r in real)
    would_np = sum(any(all(m.startswith("passive") for m in x.reasons) for x in r)
                   for _, _, r in real)
    print(f"  {'whole check, any of the 12 orders':<42} {'not measurable':>22} "
          f"{rate(accepted, len(fake)):>26}")
    no_passive = sum(any(all(m.startswith("passive") for m in x.reasons) for x in r)
                     for _, _, r in fake)
    print(f"  {'  the same without the passive network':<42} {'not measurable':>22} "
          f"{rate(no_passive, len(fake)):>26}")
    # Challenges are drawn uniformly from the 12 orders (2 or 3 actions, each half the time).
    share = float(np.mean([sum(all(m.startswith("passive") for m in x.reasons) for x in r)
                           / len(ORDERS) for _, _, r in fake]))
    print(f"  {'    chance a random challenge is passed':<42} {'':>22} {share:>26.3f}")
    print("  Active action checks (blink, turns in the asked order): BPCER not measured; "
          "it needs\n  genuine people answering issued challenges, and no such recording exists "
          "here.\n  For information only (not a BPCER: nobody was asked anything), "
          f"{would} of {len(real)} genuine\n  windows happen to pass some challenge order, "
          f"{would_np} without the passive network.")


def blink_trace(path: Path, analyzer: FaceAnalyzer, settings: LivenessSettings) -> None:
    """Eye aspect ratio over every frame of a genuine video, and what the judge counts."""
    frames = read_video(path, fps=None, limits=LONG)
    cfg = LivenessSettings(max_frames=len(frames), max_duration=LONG.max_duration,
                           identity_frames=2)
    obs = observe(frames, analyzer, settings=cfg).frames
    seen = [f for f in obs if f.face]
    baseline = float(np.percentile([f.ear for f in seen], 75))
    closed, reopen = settings.blink_closed * baseline, settings.blink_open * baseline
    print(f"\nBlinks on {path.name}: all {len(obs)} frames, {len(seen)} with a face; eye aspect "
          f"ratio 75th percentile {baseline:.3f},\n  closed below {closed:.3f}, open again at "
          f"{reopen:.3f} (the judge's shares {settings.blink_closed}/{settings.blink_open})")
    episodes: list[tuple[list[FrameObservation], int]] = []  # closed frames, reopen index
    current: list[FrameObservation] = []
    for i, f in enumerate(obs):
        if not f.face:
            continue
        if f.ear < closed:
            current.append(f)
        elif current and f.ear >= reopen:
            episodes.append((current, i))
            current = []
    # The judge counts a blink only while the yaw is within frontal_degrees of the
    # answer's first frame. For each dip, judge every window that starts up to 2 s
    # before it (after the previous dip) and ends at its reopening frame.
    print(f"  dips (the judge counts a dip in windows of up to 2 s that start before it "
          f"and end when the eyes reopen;\n  overlapping windows, so not independent "
          f"attempts; frontal gate {settings.frontal_degrees:.0f}° of the window's first frame):")
    previous = -math.inf
    for ep, end in episodes:
        starts = [i for i, f in enumerate(obs) if f.face and previous < f.at < ep[0].at
                  and obs[end].at - f.at < 2.0]
        counted = sum(Action.BLINK in judge(
            (Action.BLINK, Action.TURN_LEFT),
            Observations(frames=obs[i:end + 1], threshold=1.0, identity_ok=True),
            cfg).actions_seen for i in starts)
        print(f"  {ep[0].at:6.3f}-{ep[-1].at:6.3f} s: {len(ep)} frame(s), min ratio "
              f"{min(f.ear for f in ep):.3f}, yaw {min(f.yaw for f in ep):+.1f}° to "
              f"{max(f.yaw for f in ep):+.1f}°; counted in {counted} of {len(starts)} windows")
        previous = ep[-1].at


def passive_on_crops(scorer: PassiveScorer, settings: LivenessSettings) -> None:
    """The passive network on the cropped dataset frames (face fills the crop)."""
    print("\nPassive network on the cropped frames of liveness_detection_opencv/dataset "
          "(tight face crops,\n  not the full frames it was trained on; the crop is scored "
          "whole):")
    for label, folder in (("real", "real"), ("fake (screen replay)", "fake")):
        scores = []
        for path in sorted((OPENCV / "dataset" / folder).glob("*.png")):
            img = load_image(path)
            scores.append(scorer.score(img.pixels, Box(0, 0, img.width, img.height)))
        live = sum(x >= settings.passive_min for x in scores)
        figure = (f"BPCER {rate(len(scores) - live, len(scores))}" if folder == "real"
                  else f"APCER {rate(live, len(scores))}")
        print(f"  {label}: mean live score {float(np.mean(scores)):.3f}; {figure}")


def video_sections(analyzer: FaceAnalyzer, scorer: PassiveScorer | None,
                   settings: LivenessSettings, seconds: float, fps: float) -> None:
    real_path, fake_path = OPENCV / "videos" / "real2.webm", OPENCV / "videos" / "fake2.webm"
    try:
        real = evaluate_video(real_path, analyzer, scorer, settings, seconds, fps)
        fake = evaluate_video(fake_path, analyzer, scorer, settings, seconds, fps)
    except VideoDecoderMissing as exc:
        print(f"\nVideos: not measured ({exc.message})")
        return
    print(f"\nGenuine and replay videos, decoded at {fps:g} frames/s, cut into "
          f"non-overlapping {seconds:g} s windows,\neach window one attempt (one person, "
          "one webcam, one room: not a population):")
    print_windows("real2.webm (genuine)", real, settings)
    print_windows("fake2.webm (replay on a phone screen)", fake, settings)
    print_video_rates(real, fake, settings)
    blink_trace(real_path, analyzer, settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=8, help="real photos to attack with")
    parser.add_argument("--pack", default=None, help="model pack of the engine (default pack)")
    parser.add_argument("--window", type=float, default=2.0,
                        help="seconds of video per attempt (non-overlapping windows)")
    parser.add_argument("--fps", type=float, default=10.0, help="frames a second kept from video")
    parser.add_argument("--skip-photos", action="store_true",
                        help="skip the attacks generated from photos (the slowest part)")
    args = parser.parse_args(argv)
    analyzer = FaceAnalyzer.for_pack(args.pack) if args.pack else FaceAnalyzer()
    scorer: PassiveScorer | None = passive_scorer()
    settings = LivenessSettings()
    print(f"engine pack: {analyzer.pack.id}; passive network: "
          f"{'installed' if scorer else 'not installed (active checks only)'}")
    if not args.skip_photos:
        photo_attacks(analyzer, scorer, settings, args.photos)
    video_sections(analyzer, scorer, settings, args.window, args.fps)
    if scorer is None:
        print("\nPassive network not installed: no passive figures.")
        return 0
    passive_stills(analyzer, scorer, settings)
    passive_on_crops(scorer, settings)
    return 0


def photo_attacks(analyzer: FaceAnalyzer, scorer: PassiveScorer | None,
                  settings: LivenessSettings, photos: int) -> None:
    accepted = {k: 0 for k in ATTACKS}
    attempts = {k: 0 for k in ATTACKS}
    accepted_planar_off = {k: 0 for k in ATTACKS}
    residuals: dict[str, list[float]] = {k: [] for k in ATTACKS}
    for path in identity_photos(photos):
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


def passive_stills(analyzer: FaceAnalyzer, scorer: PassiveScorer,
                   settings: LivenessSettings) -> None:
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


if __name__ == "__main__":
    sys.exit(main())
