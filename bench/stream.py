"""Cameras on a plain CPU: sustained frames per second, cameras per machine, the latency
from a face's first frame to its decision, and the naive pipeline beside it.

The input is made here from the shared photos: a 1280x720 video at 15 frames a second
in which enrolled people and strangers cross a wall in three lanes, one to three faces
at a time, each crossing lasting three seconds (H.264, encoded with PyAV into a
temporary folder). Five people are enrolled from other photos of themselves; four
strangers are not. Each camera reads the file at its own pace, as a camera sends it
(newest frame wins; a camera that cannot keep up drops frames).

Two pipelines, run round by round, alternating (``tracked``, ``naive``, ``tracked``,
``naive``...) on one camera, the ArcFace pack (``faceplugin-arcface-v1``):

* ``tracked``: facegate's: detect on every frame, follow faces, one descriptor and one
  decision per track (retried only on a clearly better shot);
* ``naive``: detect on every frame and describe and decide every face of every frame.

For each: frames processed a second, frames dropped, descriptors computed, the enrolled
crossings decided (a crossing counts when a decision named its person while the
person was on screen), strangers matched (should be none), and p50/p95 of the time from
the first frame of a track to its first decision. Then cameras: 1, 2, 3... tracked
cameras at once on the same machine until one no longer keeps up (processes under
``--keep-up`` of the frames the camera sends, or its lag grows); the last count that
kept up is what one machine holds.

Usage::

    python bench/stream.py [--data ../shared/data] [--rounds 2] [--seconds 12]
        [--max-cameras 8]

Timings depend on the machine and on whatever else runs on it: the CPU, its vector
units and the load average are printed with the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer
from facegate.cameras.pipeline import DecisionRecord, Outcome, PipelineSettings
from facegate.cameras.source import SourceSettings
from facegate.demo.governed import STAFF, demo_assessment, demo_notice, staff_photos
from facegate.deployment import Deployment
from machine import cpu_line  # bench/machine.py, beside this script

PACK = "faceplugin-arcface-v1"
PURPOSE = "access.lobby.entry"
WIDTH, HEIGHT, FPS = 1280, 720, 15
LANES = (4, 242, 480)
CROSSING = 3.0  # seconds

#: (enrolled from, seen on camera in) under samples/identity
ENROLLED = {
    "obama": ("face_recognition/examples/obama.jpg", "face_recognition/examples/obama2.jpg"),
    "biden": ("face_recognition/examples/biden.jpg", "face_recognition/examples/biden.jpg"),
    "lennon": ("openface/images/examples/lennon-2.jpg", "openface/images/examples/lennon-1.jpg"),
    "clapton": ("openface/images/examples/clapton-2.jpg",
                "openface/images/examples/clapton-1.jpg"),
    "jolie": ("facenet_pytorch/data/test_images/angelina_jolie/1.jpg",
              "facenet_pytorch/data/test_images/angelina_jolie/1.jpg"),
}
STRANGERS = {
    "rudd": "facenet_pytorch/data/test_images/paul_rudd/1.jpg",
    "carell": "openface/images/examples/carell.jpg",
    "adams": "openface/images/examples/adams.jpg",
    "siegel": "facenet_pytorch/data/test_images/kate_siegel/1.jpg",
}


# -- the video ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Crossing:
    who: str
    lane: int
    start: int  # frame
    stop: int
    rightward: bool


def sprite(analyzer: FaceAnalyzer, photo: Path, face: int = 110) -> npt.NDArray[np.uint8]:
    image = analyzer.load(photo)
    box = analyzer.detect(image)[0].box
    pixels = image.pixels
    h, w = pixels.shape[:2]
    reach = int(0.6 * max(box.width, box.height))
    left, top = max(0, box.left - reach), max(0, box.top - reach)
    right, bottom = min(w, box.right + reach), min(h, box.bottom + reach)
    scale = face / box.height
    size = (round((right - left) * scale), round((bottom - top) * scale))
    region = PILImage.fromarray(pixels[top:bottom, left:right]).resize(
        size, PILImage.Resampling.LANCZOS)
    return np.asarray(region, dtype=np.uint8)[:234]


def schedule(seconds: float) -> list[Crossing]:
    """Crossings in three lanes, staggered so that one to three faces show at a time,
    enrolled people and strangers in turn."""
    known, other = list(ENROLLED), list(STRANGERS)
    people = [p for pair in zip(known, [*other, ""], strict=False) for p in pair if p]
    span = round(CROSSING * FPS)
    total = round(seconds * FPS)
    out: list[Crossing] = []
    n = 0
    for lane, (offset, gap) in enumerate(((0, 8), (15, 30), (30, 55))):
        start = offset
        while start + span <= total:
            out.append(Crossing(people[n % len(people)], lane, start, start + span,
                                rightward=(n % 2 == 0)))
            n += 1
            start += span + gap
    return out


def make_video(analyzer: FaceAnalyzer, identity: Path, target: Path, seconds: float
               ) -> list[Crossing]:
    sprites = {n: sprite(analyzer, identity / seen) for n, (_, seen) in ENROLLED.items()}
    sprites |= {n: sprite(analyzer, identity / p) for n, p in STRANGERS.items()}
    crossings = schedule(seconds)
    y = np.linspace(0.0, 1.0, HEIGHT)[:, None]
    x = np.linspace(0.0, 1.0, WIDTH)[None, :]
    wall = np.repeat((150 + 40 * y - 20 * x)[..., None], 3, axis=2)
    for left in range(60, WIDTH, 240):
        wall[40:680, left:left + 70] -= 25
    wall = np.clip(wall, 0, 255).astype(np.uint8)
    with av.open(str(target), mode="w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for n in range(round(seconds * FPS)):
            frame = wall.copy()
            for c in crossings:
                if not c.start <= n < c.stop:
                    continue
                s = sprites[c.who]
                sh, sw = s.shape[:2]
                share = (n - c.start) / max(1, c.stop - c.start - 1)
                if not c.rightward:
                    share = 1.0 - share
                px = round(-sw / 2 + share * (WIDTH - sw / 2))
                lo, hi = max(0, px), min(WIDTH, px + sw)
                if hi > lo:
                    frame[LANES[c.lane]:LANES[c.lane] + sh, lo:hi] = s[:, lo - px:hi - px]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return crossings


# -- running cameras ---------------------------------------------------------------------

@dataclass
class Run:
    pipeline: str
    cameras: int
    seconds: float
    frames: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    lag_early: list[float] = field(default_factory=list)
    lag_late: list[float] = field(default_factory=list)
    embeddings: int = 0
    decisions: list[DecisionRecord] = field(default_factory=list)


def run(d: Deployment, clip: Path, cameras: int, naive: bool, seconds: float) -> Run:
    """``cameras`` cameras at once on the clip, each at the clip's own pace."""
    out = Run("naive" if naive else "tracked", cameras, seconds)
    lock = threading.Lock()

    def record(r: DecisionRecord) -> None:
        with lock:
            out.decisions.append(r)

    settings = PipelineSettings(detect_fps=FPS, every_frame=naive)
    sessions = [d.watch(f"bench-cam-{i}", source=str(clip), settings=settings,
                        source_settings=SourceSettings(max_fps=FPS),
                        on_decision=record if i == 0 else None, operator="bench")
                for i in range(cameras)]
    started = time.monotonic()
    lags: list[list[tuple[float, float]]] = [[] for _ in sessions]
    while not all(s.done for s in sessions):
        time.sleep(0.5)
        now = time.monotonic() - started
        for i, s in enumerate(sessions):
            if not s.done:
                lags[i].append((now, s.status().lag_ms))
    for i, s in enumerate(sessions):
        summary = s.summary
        assert summary is not None
        src = s.status().source
        out.frames.append(int(summary.counts["frames"]))
        out.offered.append(src.offered)
        out.dropped.append(src.dropped)
        half = seconds / 2
        out.lag_early.append(statistics.fmean([v for t, v in lags[i] if t < half] or [0.0]))
        out.lag_late.append(statistics.fmean([v for t, v in lags[i] if t >= half] or [0.0]))
        if i == 0:
            out.embeddings = int(summary.counts["embeddings"])
    return out


def decided_crossings(r: Run, crossings: list[Crossing], subjects: dict[str, str]
                      ) -> tuple[int, int, int, list[float]]:
    """Enrolled crossings decided as their person, enrolled crossings, strangers matched,
    and the latencies (ms) from a track's first frame to its first decision."""
    who_of = {s: n for n, s in subjects.items()}
    decided = 0
    enrolled = [c for c in crossings if c.who in ENROLLED]
    for c in enrolled:
        if any(r2.outcome is Outcome.MATCH and who_of.get(r2.subject or "") == c.who
               and c.start <= r2.shot_frame - 1 < c.stop for r2 in r.decisions):
            decided += 1
    wrong = sum(1 for r2 in r.decisions if r2.outcome is Outcome.MATCH
                and who_of.get(r2.subject or "") is None)
    first: dict[int, DecisionRecord] = {}
    for r2 in r.decisions:
        first.setdefault(r2.track, r2)
    latency = [1000.0 * (x.decided_at - x.first_received) for x in first.values()]
    return decided, len(enrolled), wrong, latency


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def set_up(root: Path, samples: Path, analyzer: FaceAnalyzer, cameras: int
           ) -> tuple[Deployment, dict[str, str]]:
    d = Deployment.open(root / "bench.db", create=True, analyzer=analyzer)
    d.register_processor(name={"zh": "基准测试有限公司", "en": "Bench Ltd"},
                         contact={"zh": "dpo@example.com", "en": "dpo@example.com"},
                         credit_code="1")
    d.register_site(key="hq.lobby", name={"zh": "大堂", "en": "Lobby"}, site_type="office")
    d.register_purpose(key=PURPOSE, site="hq.lobby",
                       description={"zh": "门禁", "en": "door access"},
                       necessity={"zh": "基准测试", "en": "bench"},
                       legal_basis={"zh": "单独同意", "en": "separate consent"},
                       modes=["identify"], retention_days=30, pack=PACK,
                       alternatives=[{"key": "badge", "name": {"zh": "员工卡", "en": "badge"}}])
    d.publish_notice(purpose=PURPOSE, content=demo_notice())
    d.sign_assessment(purpose=PURPOSE, content=demo_assessment(), signed_by="DPO")
    d.calibrate_purpose(purpose=PURPOSE, data=staff_photos(samples, root / "staff"),
                        population=STAFF, target_fmr=1e-2)
    d.activate_purpose(PURPOSE)
    subjects = {}
    for name, (enrolled, _) in ENROLLED.items():
        s = d.register_subject(age_band="adult").id
        d.record_consent(subject=s, purpose=PURPOSE, notice_version=1, method="on_screen")
        d.enroll(subject=s, purpose=PURPOSE, image=samples / "identity" / enrolled)
        subjects[name] = s
    for i in range(cameras):
        d.register_camera(id=f"bench-cam-{i}", site="hq.lobby", purposes=[PURPOSE])
    return d, subjects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2]
                        / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--max-cameras", type=int, default=8)
    parser.add_argument("--keep-up", type=float, default=0.95,
                        help="the share of the frames sent a camera must process")
    args = parser.parse_args()
    samples = args.data / "samples"
    if not (samples / "identity").is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2
    print(f"machine: {cpu_line()}")
    analyzer = FaceAnalyzer.for_pack(PACK)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clip = root / "door-720p.mp4"
        crossings = make_video(analyzer, samples / "identity", clip, args.seconds)
        per_frame = Counter()
        for c in crossings:
            for n in range(c.start, c.stop):
                per_frame[n] += 1
        shown = [per_frame.get(n, 0) for n in range(round(args.seconds * FPS))]
        print(f"input: {WIDTH}x{HEIGHT} at {FPS} fps, {args.seconds:g} s, {len(crossings)} "
              f"crossings ({sum(c.who in ENROLLED for c in crossings)} by enrolled people), "
              f"faces on screen {min(shown)}-{max(shown)} (mean {statistics.fmean(shown):.1f})")
        d, subjects = set_up(root, samples, analyzer, args.max_cameras)
        try:
            results: dict[str, list[Run]] = {"tracked": [], "naive": []}
            for n in range(args.rounds):
                for naive in (False, True):
                    r = run(d, clip, 1, naive, args.seconds)
                    results[r.pipeline].append(r)
                    got, of, wrong, lat = decided_crossings(r, crossings, subjects)
                    print(f"round {n + 1} {r.pipeline:8s}: {r.frames[0] / args.seconds:5.1f} fps "
                          f"processed, {r.dropped[0]} of {r.offered[0]} frames dropped, "
                          f"{r.embeddings} descriptors, {got}/{of} enrolled crossings "
                          f"decided, {wrong} strangers matched, first decision p50 "
                          f"{pct(lat, 0.5):.0f} ms p95 {pct(lat, 0.95):.0f} ms")
            summary = {}
            for name, runs in results.items():
                lat = [x for r in runs for x in decided_crossings(r, crossings, subjects)[3]]
                decided = sum(decided_crossings(r, crossings, subjects)[0] for r in runs)
                summary[name] = (statistics.fmean(r.frames[0] / args.seconds for r in runs),
                                 sum(r.embeddings for r in runs), decided,
                                 pct(lat, 0.5), pct(lat, 0.95))
            t, v = summary["tracked"], summary["naive"]
            print(f"tracked: {t[0]:.1f} fps, {t[1]} descriptors, {t[2]} crossings decided, "
                  f"p50 {t[3]:.0f} ms, p95 {t[4]:.0f} ms")
            print(f"naive:   {v[0]:.1f} fps, {v[1]} descriptors, {v[2]} crossings decided, "
                  f"p50 {v[3]:.0f} ms, p95 {v[4]:.0f} ms")
            print(f"naive/tracked: descriptors {v[1] / max(1, t[1]):.1f}x, fps "
                  f"{v[0] / max(t[0], 1e-9):.2f}x, crossings decided {v[2]}/{t[2]}")
            held = 0
            for cams in range(1, args.max_cameras + 1):
                r = run(d, clip, cams, False, args.seconds)
                sent = round(args.seconds * FPS)
                worst = min(r.frames) / sent
                growing = max(late - early for early, late in zip(r.lag_early, r.lag_late,
                                                                   strict=True))
                ok = worst >= args.keep_up and growing < 200.0
                print(f"{cams} cameras: slowest processed {min(r.frames)}/{sent} frames "
                      f"({min(r.frames) / args.seconds:.1f} fps), lag early "
                      f"{max(r.lag_early):.0f} ms late {max(r.lag_late):.0f} ms: "
                      f"{'keeps up' if ok else 'falls behind'}")
                if not ok:
                    break
                held = cams
            print(f"one machine holds {held} tracked cameras of {WIDTH}x{HEIGHT} at {FPS} fps "
                  f"({cpu_line()})")
        finally:
            d.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
