"""A fake camera for the browser tests: a Y4M video made from a real face photo.

Chromium plays the file in a loop as its camera (``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE``). The photo is scaled into a 640x480
frame, centred on a grey background, and written as I420 frames (BT.601, full
range, as Chromium's ``C420jpeg`` reader expects).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480


def _frame(photo: Path) -> Image.Image:
    picture = Image.open(photo).convert("RGB")
    scale = min(WIDTH / picture.width, HEIGHT / picture.height)
    size = (int(picture.width * scale) // 2 * 2, int(picture.height * scale) // 2 * 2)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(picture.resize(size, Image.Resampling.LANCZOS),
                 ((WIDTH - size[0]) // 2, (HEIGHT - size[1]) // 2))
    return canvas


def _i420(frame: Image.Image) -> bytes:
    rgb = np.asarray(frame, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128.0

    def sub(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3))

    planes = [np.clip(p + 0.5, 0, 255).astype(np.uint8) for p in (y, sub(u), sub(v))]
    return b"".join(p.tobytes() for p in planes)


def fake_camera_video(photo: Path, into: Path, *, frames: int = 6) -> Path:
    """Write ``into`` (``.y4m``): ``frames`` frames of ``photo`` at 15 fps."""
    data = _i420(_frame(photo))
    with into.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(data)
    return into
