"""Test videos made at test time from the shared photos: people moving across a
background, entering and leaving, two at a time, encoded with PyAV.

Each person is a "sprite": the region around the face found in their photo, scaled so
that the face is about ``face`` pixels tall. A :class:`Pass` moves a sprite across one
lane of the frame, from one edge to the other, during a span of frames. Nothing is
written but the video file the caller names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer

WIDTH, HEIGHT = 640, 400
LANES = (8, 212)  # the top of each lane's sprites


@dataclass(frozen=True)
class Pass:
    """``who`` crosses lane ``lane`` from frame ``start`` to ``stop`` (exclusive), left to
    right (or right to left)."""

    who: str
    lane: int
    start: int
    stop: int
    rightward: bool = True


def sprite(analyzer: FaceAnalyzer, photo: Path, face: int = 80) -> npt.NDArray[np.uint8]:
    """The region around the largest face of ``photo`` (its box widened by two thirds on
    each side), scaled so that the face is ``face`` pixels tall."""
    image = analyzer.load(photo)
    box = analyzer.detect(image)[0].box
    pixels = image.pixels
    h, w = pixels.shape[:2]
    reach = int(0.65 * max(box.width, box.height))
    left, top = max(0, box.left - reach), max(0, box.top - reach)
    right, bottom = min(w, box.right + reach), min(h, box.bottom + reach)
    scale = face / box.height
    region = PILImage.fromarray(pixels[top:bottom, left:right])
    size = (round((right - left) * scale), round((bottom - top) * scale))
    out = np.asarray(region.resize(size, PILImage.Resampling.LANCZOS), dtype=np.uint8)
    return out[:186]


def background() -> npt.NDArray[np.uint8]:
    """A plain wall with a soft gradient and a few darker panels (no face)."""
    y = np.linspace(0.0, 1.0, HEIGHT)[:, None]
    x = np.linspace(0.0, 1.0, WIDTH)[None, :]
    grey = 150 + 40 * y - 20 * x
    frame = np.repeat(grey[..., None], 3, axis=2)
    frame[:, :, 2] += 12
    for left in range(40, WIDTH, 160):
        frame[30:370, left:left + 50] -= 25
    return np.clip(frame, 0, 255).astype(np.uint8)


def render(sprites: dict[str, npt.NDArray[np.uint8]], passes: list[Pass],
           frames: int) -> list[npt.NDArray[np.uint8]]:
    """The frames: each pass's sprite moved linearly from just outside one edge (half of
    it showing) to the other."""
    wall = background()
    out = []
    for n in range(frames):
        frame = wall.copy()
        for p in passes:
            if not p.start <= n < p.stop:
                continue
            s = sprites[p.who]
            sh, sw = s.shape[:2]
            share = (n - p.start) / max(1, p.stop - p.start - 1)
            if not p.rightward:
                share = 1.0 - share
            x = round(-sw / 2 + share * (WIDTH - sw / 2))
            top = LANES[p.lane]
            left, right = max(0, x), min(WIDTH, x + sw)
            if right <= left:
                continue
            frame[top:top + sh, left:right] = s[:, left - x:right - x]
        out.append(frame)
    return out


def encode(frames: list[npt.NDArray[np.uint8]], target: Path, *, fps: int = 10,
           container: str | None = None) -> Path:
    """Encode ``frames`` with H.264 into ``target`` (MP4, or ``container``: ``mpegts``)."""
    with av.open(str(target), mode="w", format=container) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast", "tune": "zerolatency"}
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target
