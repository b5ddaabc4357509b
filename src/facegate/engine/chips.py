"""Aligned face chips exactly as dlib's ``get_face_chip`` makes them, in numpy.

Two steps, following dlib's ``get_face_chip_details`` and
``extract_image_chips`` (``dlib/image_transforms/interpolation.h``):

1. *Where*: the similarity transform that best maps dlib's 5-point template
   (padded by ``padding`` on every side, scaled to ``size``) onto the face's
   landmarks gives the chip's angle, and its centre and scale give the chip's
   rectangle in the image.
2. *How*: when the rectangle is much larger than the chip, the image region
   is first shrunk with dlib's ``pyramid_down<2>`` (a 5-tap [1 4 6 4 1]
   Gaussian, integer arithmetic) as many times as needed, so that bilinear
   sampling does not alias; each chip pixel is then read with bilinear
   interpolation (black outside the image) and truncated to ``uint8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ChipDetails", "extract_chip", "face_chip_details"]

U8 = npt.NDArray[np.uint8]

#: dlib's 5-point template: the two corners of each eye and the base of the nose.
_TEMPLATE_5: Final = np.array([
    (0.8595674595992, 0.2134981538014),
    (0.6460604764104, 0.2289674387677),
    (0.1205750620789, 0.2137274526848),
    (0.3340850613712, 0.2290642403242),
    (0.4901123135679, 0.6277975316475),
])


@dataclass(frozen=True, slots=True)
class _DRect:
    """dlib's ``drectangle``: inclusive corners, width ``r - l + 1``."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def empty(self) -> bool:
        return self.top > self.bottom or self.left > self.right

    @property
    def area(self) -> float:
        if self.empty:
            return 0.0
        return (self.right - self.left + 1) * (self.bottom - self.top + 1)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    def down(self) -> _DRect:
        """``pyramid_down<2>::rect_down``: p / 2 - (1.25, 0.75) at both corners."""
        return _DRect(self.left / 2 - 1.25, self.top / 2 - 0.75,
                      self.right / 2 - 1.25, self.bottom / 2 - 0.75)


@dataclass(frozen=True, slots=True)
class ChipDetails:
    """Where a chip lies in the image: dlib's ``chip_details``."""

    rect: _DRect
    angle: float
    rows: int
    cols: int


def face_chip_details(points: npt.ArrayLike, size: int = 150,
                      padding: float = 0.25) -> ChipDetails:
    """dlib's ``get_face_chip_details`` for 5 landmark points (x, y) in the image."""
    image_pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if image_pts.shape[0] != 5:
        raise ValueError("face chips need the 5-point landmarks")
    chip_pts = (padding + _TEMPLATE_5) / (2 * padding + 1) * size
    m, t = _similarity(chip_pts, image_pts)
    px, py = m[0, 0], m[1, 0]  # the transform applied to (1, 0)
    angle = math.atan2(py, px)
    scale = math.hypot(px, py)
    cx, cy = m @ np.array([size / 2.0, size / 2.0]) + t
    width = size * scale - 1
    height = size * scale - 1
    rect = _DRect(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    return ChipDetails(rect=rect, angle=angle, rows=size, cols=size)


def _similarity(src: npt.NDArray[np.float64],
                dst: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64],
                                                       npt.NDArray[np.float64]]:
    """Least-squares similarity ``dst ~ m @ src + t`` (Umeyama's, closed form in 2-D)."""
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - src_mean, dst - dst_mean
    norm = float((s ** 2).sum())
    a = float((s * d).sum()) / norm
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm
    m = np.array([[a, -b], [b, a]])
    return m, dst_mean - m @ src_mean


def _rotate(center: tuple[float, float], point: tuple[float, float],
            angle: float) -> tuple[float, float]:
    cos, sin = math.cos(angle), math.sin(angle)
    x, y = point[0] - center[0], point[1] - center[1]
    return (cos * x - sin * y + center[0], sin * x + cos * y + center[1])


def pyramid_down(image: U8) -> U8:
    """dlib's ``pyramid_down<2>`` on an RGB image: [1 4 6 4 1]^2 / 256, keep every other.

    Sums stay below 2**16 (16 * 16 * 255), so uint16 arithmetic is exact.
    """
    rows, cols = image.shape[:2]
    if rows <= 8 or cols <= 8:
        return np.zeros((0, 0, 3), dtype=np.uint8)
    out_cols, out_rows = (cols - 3) // 2, (rows - 3) // 2
    src = image.astype(np.uint16)
    end = 2 * out_cols

    def cols_at(k: int) -> npt.NDArray[np.uint16]:
        return src[:, k:k + end:2]

    tmp = cols_at(0) + 4 * cols_at(1) + 6 * cols_at(2) + 4 * cols_at(3) + cols_at(4)
    end = 2 * out_rows

    def rows_at(k: int) -> npt.NDArray[np.uint16]:
        return tmp[k:k + end:2]

    down = rows_at(0) + 4 * rows_at(1) + 6 * rows_at(2) + 4 * rows_at(3) + rows_at(4)
    result: U8 = (down >> 8).astype(np.uint8)
    return result


def _bilinear(image: U8, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]) -> U8:
    rows, cols = image.shape[:2]
    left = np.floor(xs).astype(np.int64)
    top = np.floor(ys).astype(np.int64)
    ok = (left >= 0) & (top >= 0) & (left + 1 < cols) & (top + 1 < rows)
    left, top = np.where(ok, left, 0), np.where(ok, top, 0)
    lr = (xs - left)[..., None]
    tb = (ys - top)[..., None]
    flat = image.reshape(-1, 3)
    index = top * cols + left

    def at(offset: int) -> npt.NDArray[np.float64]:
        return np.asarray(np.take(flat, index + offset, axis=0), dtype=np.float64)

    value = (1 - tb) * ((1 - lr) * at(0) + lr * at(1)) + tb * ((1 - lr) * at(cols)
                                                               + lr * at(cols + 1))
    out = value.astype(np.uint8)  # truncation, as dlib's static_cast<unsigned char>
    out[~ok] = 0
    return out


def extract_chip(pixels: U8, details: ChipDetails) -> U8:
    """dlib's ``extract_image_chip`` with bilinear interpolation, for an RGB image."""
    size = details.rows * details.cols
    height, width = pixels.shape[:2]
    rect, angle = details.rect, details.angle
    # How deep a pyramid is needed, and the image region it is built on.
    depth, grow = 0, 2.0
    probe = rect.down()
    while probe.area > size:
        probe = probe.down()
        depth += 1
        grow = grow * 2 + 2
    corners = [_rotate(rect.center, c, angle) for c in
               ((rect.left, rect.top), (rect.right, rect.top),
                (rect.left, rect.bottom), (rect.right, rect.bottom))]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    box_l = round_half_away(max(min(xs) - grow, 0.0))
    box_t = round_half_away(max(min(ys) - grow, 0.0))
    box_r = round_half_away(min(max(xs) + grow, width - 1.0))
    box_b = round_half_away(min(max(ys) + grow, height - 1.0))
    if angle == 0 and details.rows == rect.bottom - rect.top + 1 \
            and details.cols == rect.right - rect.left + 1:
        return _copy_chip(pixels, rect, details)
    region = np.ascontiguousarray(pixels[max(box_t, 0):box_b + 1, max(box_l, 0):box_r + 1])
    local = _DRect(rect.left - box_l, rect.top - box_t, rect.right - box_l, rect.bottom - box_t)
    level = -1
    while local.down().area > size:
        level += 1
        local = local.down()
    source = region
    for _ in range(level + 1):
        source = pyramid_down(source)
    center = local.center
    tl = _rotate(center, (local.left, local.top), angle)
    tr = _rotate(center, (local.right, local.top), angle)
    bl = _rotate(center, (local.left, local.bottom), angle)
    cols, rows = details.cols, details.rows
    ax = ((tr[0] - tl[0]) / (cols - 1), (tr[1] - tl[1]) / (cols - 1))
    ay = ((bl[0] - tl[0]) / (rows - 1), (bl[1] - tl[1]) / (rows - 1))
    c, r = np.meshgrid(np.arange(cols, dtype=np.float64), np.arange(rows, dtype=np.float64))
    map_x = tl[0] + ax[0] * c + ay[0] * r
    map_y = tl[1] + ax[1] * c + ay[1] * r
    return _bilinear(source, map_x, map_y)


def round_half_away(value: float) -> int:
    """C's ``lround``: halves away from zero."""
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def _copy_chip(pixels: U8, rect: _DRect, details: ChipDetails) -> U8:
    left, top = round_half_away(rect.left), round_half_away(rect.top)
    chip = np.zeros((details.rows, details.cols, 3), dtype=np.uint8)
    height, width = pixels.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + details.rows, height), min(left + details.cols, width)
    if y1 > y0 and x1 > x0:
        chip[y0 - top:y1 - top, x0 - left:x1 - left] = pixels[y0:y1, x0:x1]
    return chip
