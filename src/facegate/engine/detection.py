"""Detection plumbing every engine shares: scaling down for detection, and turning
detector boxes into faces with landmarks, largest first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from ..images import Image
from .faces import Box, DetectorKind, Face, Landmarks

__all__ = [
    "CNN_FALLBACK_UPSAMPLED_SIDE",
    "Detection",
    "faces_from_detections",
    "fallback_upsample",
    "scaled_for_detection",
]

#: The ``auto`` detector's CNN fallback upsamples only detection images whose longer side
#: is at most this: it finds small faces where they matter (the measured portraits are
#: 250-300 px), while on a large frame without any face (the common case at a kiosk or a
#: door) it runs once at the frame's size: 2.8 s instead of 0.4 s for HOG on a 1280x960
#: frame upsampled, about 1 s without (this project's 2-core machine).
CNN_FALLBACK_UPSAMPLED_SIDE = 640

#: A detector's raw answer on the (possibly scaled) detection image.
Detection = tuple[Box, float, DetectorKind]


def scaled_for_detection(pixels: npt.NDArray[np.uint8],
                         max_side: int) -> tuple[npt.NDArray[np.uint8], float]:
    """The image to detect on, scaled down so its longer side is at most ``max_side``."""
    height, width = pixels.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return pixels, 1.0
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = PILImage.fromarray(pixels).resize(size, PILImage.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8)), scale


def fallback_upsample(pixels: npt.NDArray[np.uint8], upsample: int) -> int:
    """How often the ``auto`` detector's CNN fallback doubles ``pixels`` (the detection
    image): as asked for small images, not at all above :data:`CNN_FALLBACK_UPSAMPLED_SIDE`."""
    return upsample if max(pixels.shape[:2]) <= CNN_FALLBACK_UPSAMPLED_SIDE else 0


def faces_from_detections(image: Image, found: Sequence[Detection], scale: float,
                          landmarks: Callable[[Box], Landmarks]) -> list[Face]:
    """Boxes mapped back to full resolution and clipped, with 5-point landmarks, largest first."""
    faces = []
    for box, score, kind in found:
        full = _clip_box(_rescale_box(box, 1.0 / scale), image.width, image.height)
        if full.width < 2 or full.height < 2:
            continue
        faces.append(Face(box=full, score=score, detector=kind, landmarks=landmarks(full)))
    faces.sort(key=lambda f: f.box.area, reverse=True)
    return faces


def _rescale_box(box: Box, factor: float) -> Box:
    if factor == 1.0:
        return box
    return Box(left=round(box.left * factor), top=round(box.top * factor),
               right=round(box.right * factor), bottom=round(box.bottom * factor))


def _clip_box(box: Box, width: int, height: int) -> Box:
    return Box(left=max(0, box.left), top=max(0, box.top),
               right=min(width, box.right), bottom=min(height, box.bottom))
