"""Small video files written with PyAV for the video-decoding tests."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

NO_AV = "PyAV (facegate's 'video' extra) is not installed"


def write_video(path: Path, frames: Sequence[npt.NDArray[np.uint8]], *, fps: int = 10,
                codec: str | None = None, rotation: int = 0) -> Path:
    """Encode RGB frames (all of one even size) into ``path`` at ``fps`` frames a second;
    the codec defaults to VP8 for ``.webm``, MPEG-4 part 2 otherwise. ``rotation`` sets
    the display matrix (counter-clockwise degrees, as phones record portrait video)."""
    import av

    codec = codec or ("libvpx" if path.suffix == ".webm" else "mpeg4")
    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def flat_frames(n: int, *, width: int = 64, height: int = 48) -> list[npt.NDArray[np.uint8]]:
    """``n`` frames of one colour each, growing brighter, so order can be checked."""
    return [np.full((height, width, 3), (20 + 10 * i) % 256, dtype=np.uint8) for i in range(n)]
