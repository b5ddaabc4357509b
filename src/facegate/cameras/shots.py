"""Per-detection quality and the one shot a track keeps to be decided on.

:func:`shot_quality` scores a detected face in a frame from 0 to 1 from what costs
almost nothing to measure: its size, how frontal it is (the pose from its 68
landmarks when the detector placed them, else the nose against the eyes), how sharp
and how well lit its box is, whether the frame's edge cuts it, and the detector's
confidence. A track keeps only its best :class:`Shot`: a copy of the frame around the
face (wide enough for the passive liveness network, which looks at 2.7 times the
box), reduced so that the face is at most :data:`SHOT_FACE` pixels tall, with the
face's box and landmarks moved into it. Nothing else of a frame outlives the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from ..engine.faces import Box, Face, Landmarks
from ..quality import estimate_pose

__all__ = ["MARGIN", "SHOT_FACE", "Shot", "make_shot", "shot_quality"]

#: The tallest face a shot keeps, in pixels (the descriptor networks see 112-150 px chips).
SHOT_FACE: Final = 160
#: How far a shot reaches beyond the face box on each side, as a share of its size.
MARGIN: Final = 0.95
_GOOD_SIZE: Final = 112.0
_MIN_SIZE: Final = 40.0
_MAX_YAW: Final = 45.0
_MAX_PITCH: Final = 35.0
_SHARP: Final = 120.0


@dataclass(frozen=True, slots=True)
class Shot:
    """A track's best view of its face so far.

    Args:
        pixels: the frame around the face (RGB), a copy kept in memory only.
        face: the face, its box and landmarks in ``pixels``' coordinates.
        quality: :func:`shot_quality` of the face in its frame.
        frame: the frame's number.
        received: when the frame was decoded (``time.monotonic()``).
    """

    pixels: npt.NDArray[np.uint8]
    face: Face
    quality: float
    frame: int
    received: float


def _grey_patch(pixels: npt.NDArray[np.uint8], box: Box, size: int = 48
                ) -> npt.NDArray[np.float32] | None:
    h, w = pixels.shape[:2]
    left, top = max(0, box.left), max(0, box.top)
    right, bottom = min(w, box.right), min(h, box.bottom)
    if right - left < 4 or bottom - top < 4:
        return None
    region = pixels[top:bottom, left:right]
    step = max(1, min(region.shape[0], region.shape[1]) // (2 * size))
    small = np.ascontiguousarray(region[::step, ::step])
    patch = PILImage.fromarray(small).convert("L").resize((size, size),
                                                         PILImage.Resampling.BILINEAR)
    return np.asarray(patch, dtype=np.float32)


def _frontal(face: Face) -> float:
    """1 for a frontal face, falling to 0 at 45 degrees of yaw or 35 of pitch."""
    if face.landmarks68 is not None:
        yaw, pitch, _ = estimate_pose(face.landmarks68)
        return max(0.0, 1.0 - max(abs(yaw) / _MAX_YAW, abs(pitch) / _MAX_PITCH))
    points = face.landmarks.points
    if len(points) < 5:
        return 0.5
    # dlib's five: each eye's outer and inner corner, then the base of the nose
    eyes = np.asarray(points[:4], dtype=np.float64)
    mid = eyes.mean(axis=0)
    span = float(np.linalg.norm(eyes[0] - eyes[2])) or 1.0
    offset = abs(float(points[4][0]) - float(mid[0])) / span
    return max(0.0, 1.0 - 2.5 * offset)


def shot_quality(face: Face, pixels: npt.NDArray[np.uint8]) -> float:
    """How good a view of a face this is, from 0 (useless) to 1 (large, frontal, sharp,
    well lit, whole and confidently detected)."""
    h, w = pixels.shape[:2]
    box = face.box
    height = float(box.height)
    size = min(1.0, max(0.0, (height - _MIN_SIZE) / (_GOOD_SIZE - _MIN_SIZE)))
    if size <= 0.0:
        return 0.0
    frontal = _frontal(face)
    patch = _grey_patch(pixels, box)
    if patch is None:
        return 0.0
    lap = (patch[1:-1, 1:-1] * 4.0 - patch[:-2, 1:-1] - patch[2:, 1:-1]
           - patch[1:-1, :-2] - patch[1:-1, 2:])
    sharp = min(1.0, float(lap.var()) / _SHARP)
    centre = float(patch[12:36, 12:36].mean())
    light = 1.0 if 50.0 <= centre <= 205.0 else max(0.0, 1.0 - min(abs(centre - 50.0),
                                                                  abs(centre - 205.0)) / 50.0)
    whole = 1.0 if (box.left > 1 and box.top > 1 and box.right < w - 1
                    and box.bottom < h - 1) else 0.6
    confidence = min(1.0, max(0.0, float(face.score)) / 0.9) if math.isfinite(face.score) \
        else 0.5
    return round(size * frontal * (0.3 + 0.7 * sharp) * light * whole * confidence, 4)


def _moved(landmarks: Landmarks | None, dx: float, dy: float,
           scale: float) -> Landmarks | None:
    if landmarks is None:
        return None
    return Landmarks(scheme=landmarks.scheme,
                     points=tuple(((x - dx) * scale, (y - dy) * scale)
                                  for x, y in landmarks.points))


def make_shot(pixels: npt.NDArray[np.uint8], face: Face, *, quality: float, frame: int,
              received: float) -> Shot:
    """The shot of ``face``: the frame around it (:data:`MARGIN` of its size on each side,
    clipped to the frame), copied, reduced so that the face is at most :data:`SHOT_FACE`
    pixels tall, with the face moved into it."""
    h, w = pixels.shape[:2]
    box = face.box
    side = max(box.width, box.height)
    reach = MARGIN * side
    left, top = max(0, int(box.left - reach)), max(0, int(box.top - reach))
    right, bottom = min(w, math.ceil(box.right + reach)), min(h, math.ceil(
        box.bottom + reach))
    region = pixels[top:bottom, left:right]
    scale = min(1.0, SHOT_FACE / max(1.0, float(box.height)))
    if scale < 1.0:
        size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
        crop = np.asarray(PILImage.fromarray(np.ascontiguousarray(region)).resize(
            size, PILImage.Resampling.BILINEAR), dtype=np.uint8)
    else:
        crop = np.array(region, dtype=np.uint8, copy=True)
    moved = Box(left=round((box.left - left) * scale), top=round((box.top - top) * scale),
                right=round((box.right - left) * scale), bottom=round((box.bottom - top) * scale))
    landmarks = _moved(face.landmarks, left, top, scale)
    assert landmarks is not None
    inside = replace(face, box=moved, landmarks=landmarks,
                     landmarks68=_moved(face.landmarks68, left, top, scale), descriptor=None)
    return Shot(pixels=np.ascontiguousarray(crop), face=inside, quality=quality, frame=frame,
                received=received)
