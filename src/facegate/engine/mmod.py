"""The MMOD CNN face detector's input pyramid and box decoding, as dlib does them.

dlib's ``cnn_face_detection_model_v1`` runs three steps around the network:

1. *Upsampling* (``upsample`` times): ``pyramid_up`` doubles the image with
   bilinear interpolation to ``(2h + 1, 2w + 2)`` pixels.
2. *Input tensor* (``input_rgb_image_pyramid<pyramid_down<6>>``): the image
   and its successive 5/6 reductions are tiled into one plane with
   ``padding`` pixels between tiles and ``outer_padding`` around them; level 0
   holds ``(pixel - mean) / 256`` and each further level is a bilinear
   reduction of the previous one, in float32.
3. *Decoding* (``loss_mmod``): every output position scoring above 0 becomes a
   detector window centred on the matching input point, mapped back from its
   pyramid tile to image coordinates; boxes are sorted by score and greedily
   suppressed when they overlap a kept box.

The bilinear resizes (:mod:`facegate.engine.resize`) reproduce dlib's
arithmetic to the float rounding, because the detector's boxes depend on them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .chips import round_half_away
from .dlib_networks import Conv, DlibNetwork, InputLayer, Layer, MmodOptions
from .resize import resize_bilinear, resize_planes

__all__ = [
    "Detection",
    "decode_scores",
    "detect_faces",
    "input_tensor",
    "output_to_input",
    "pyramid_up",
]

F32 = npt.NDArray[np.float32]
Rect = tuple[int, int, int, int]  # left, top, right, bottom (inclusive), as dlib's rectangle


#: pyramid_down<6>::point_up: p * N / (N - 1) + 0.3
_UP_RATIO = 6 / 5.0


@dataclass(frozen=True, slots=True)
class Detection:
    rect: Rect
    score: float


def pyramid_up(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """dlib's ``pyramid_up`` with ``pyramid_down<2>``: an RGB image about twice the size."""
    rows, cols = image.shape[:2]
    out = resize_bilinear(image, 2 * rows + 1, 2 * cols + 2)
    return np.asarray(out, dtype=np.uint8)


def _tile_rects(nr: int, nc: int, padding: int, outer: int) -> tuple[list[Rect], int, int]:
    """dlib's ``compute_tiled_image_pyramid_details`` for ``pyramid_down<6>``."""
    sizes = [(nc, nr)]
    while True:
        nr, nc = math.floor(5 / 6 * nr), math.floor(5 / 6 * nc)
        if nr * nc == 0 or nr < 5:
            break
        sizes.append((nc, nr))
    total = sum(h + padding for _, h in sizes) - 2 * padding
    height, prev_width = 0, 0
    w0, h0 = sizes[0]
    for w, h in sizes:
        if w <= w0 - prev_width - padding and (height - h0) * 2 >= total - h0:
            break
        height += h + padding
        prev_width = w
    height -= padding
    rects: list[Rect] = []
    y, i = outer, 0
    while y < height + outer and i < len(sizes):
        w, h = sizes[i]
        rects.append((outer, y, outer + w - 1, y + h - 1))
        y += h + padding
        i += 1
    y -= padding
    while i < len(sizes):
        w, h = sizes[i]
        right, bottom = outer + w0 - 1, y - 1
        rect = (right - (w - 1), bottom - (h - 1), right, bottom)
        first = rects[0]
        if not (rect[2] < first[0] or rect[0] > first[2] or rect[3] < first[1]
                or rect[1] > first[3]):
            break
        rects.append(rect)
        y -= h + padding
        i += 1
    return rects, height + 2 * outer, w0 + 2 * outer


def input_tensor(image: npt.NDArray[np.uint8], layer: InputLayer) -> tuple[F32, list[Rect]]:
    """The (1, 3, rows, cols) float32 tiled-pyramid tensor and the tiles' rectangles."""
    nr, nc = image.shape[:2]
    rects, rows, cols = _tile_rects(nr, nc, layer.pyramid_padding, layer.pyramid_outer_padding)
    tensor = np.zeros((1, 3, rows, cols), dtype=np.float32)
    mean = np.asarray(layer.mean_rgb, dtype=np.float32)
    planes = ((image.astype(np.float32) - mean) / np.float32(256)).transpose(2, 0, 1)
    l0, t0, r0, b0 = rects[0]
    tensor[0, :, t0:b0 + 1, l0:r0 + 1] = planes
    for (pl, pt, pr, pb), (ql, qt, qr, qb) in itertools.pairwise(rects):
        src = tensor[0, :, pt:pb + 1, pl:pr + 1]
        tensor[0, :, qt:qb + 1, ql:qr + 1] = resize_planes(src, qb - qt + 1, qr - ql + 1)
    return tensor, rects


def _nearest_rect(rects: list[Rect], x: int, y: int) -> int:
    best, best_dist = 0, math.inf
    for i, (left, top, right, bottom) in enumerate(rects):
        if left <= x <= right and top <= y <= bottom:
            return i
        nx, ny = min(max(x, left), right), min(max(y, top), bottom)
        dist = math.hypot(nx - x, ny - y)
        if dist < best_dist:
            best, best_dist = i, dist
    return best


def decode_scores(scores: F32, rects: list[Rect], options: MmodOptions,
                  output_to_input: tuple[float, float], threshold: float = 0.0) -> list[Detection]:
    """Boxes from the network's score map (one image), as ``loss_mmod::to_label``.

    Args:
        scores: (windows, rows, cols) float32 scores.
        rects: the pyramid tiles from :func:`input_tensor`.
        output_to_input: ``(scale, offset)`` mapping an output position to the
            input tensor (``p * scale + offset``).
    """
    scale, offset = output_to_input
    found: list[tuple[float, int, Rect]] = []
    for k, (width, height) in enumerate(options.windows):
        rs, cs = np.nonzero(scores[k] > threshold)
        for r, c in zip(rs.tolist(), cs.tolist(), strict=True):
            px, py = c * scale + offset, r * scale + offset
            w, h = width - 1.0, height - 1.0
            left, top, right, bottom = px - w / 2, py - h / 2, px + w / 2, py + h / 2
            cx = math.floor((left + right) / 2 + 0.5)
            cy = math.floor((top + bottom) / 2 + 0.5)
            level = _nearest_rect(rects, cx, cy)
            ox, oy = rects[level][0], rects[level][1]
            corners = [left - ox, top - oy, right - ox, bottom - oy]
            for _ in range(level):
                corners = [v * _UP_RATIO + 0.3 for v in corners]
            box = tuple(round_half_away(v) for v in corners)
            found.append((float(scores[k, r, c]), len(found), box))  # type: ignore[arg-type]
    found.sort(key=lambda item: (-item[0], item[1]))
    kept: list[Detection] = []
    for score, _, box in found:
        if any(_overlaps(d.rect, box, options) for d in kept):
            continue
        kept.append(Detection(rect=box, score=score))
    return kept


def _area(rect: Rect) -> float:
    width, height = rect[2] - rect[0] + 1, rect[3] - rect[1] + 1
    return 0.0 if width <= 0 or height <= 0 else float(width * height)


def _overlaps(a: Rect, b: Rect, options: MmodOptions) -> bool:
    inner = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    if inner == 0:
        return False
    outer = _area((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
    return (inner / outer > options.nms_iou or inner / _area(a) > options.nms_covered
            or inner / _area(b) > options.nms_covered)


def output_to_input(layers: tuple[Layer, ...]) -> tuple[float, float]:
    """``(scale, offset)`` with input point = output point * scale + offset (dlib's
    ``map_output_to_input`` of every convolution: ``p * stride - padding + size // 2``)."""
    scale, offset = 1.0, 0.0
    for layer in reversed(layers):
        if isinstance(layer, Conv):
            stride, pad, size = layer.stride[1], layer.padding[1], layer.weights.shape[3]
            offset = offset * stride + (-pad + size // 2)
            scale *= stride
    return scale, offset


def _min_input_side(layers: tuple[Layer, ...]) -> int:
    """The smallest input side whose every convolution still has one output."""
    side = 1
    for layer in reversed(layers):
        if isinstance(layer, Conv):
            stride, pad, size = layer.stride[0], layer.padding[0], layer.weights.shape[2]
            side = max(size - 2 * pad, (side - 1) * stride + size - 2 * pad)
    return side


def detect_faces(pixels: npt.NDArray[np.uint8], upsample: int, network: DlibNetwork,
                 run: Callable[[F32], F32]) -> list[Detection]:
    """Run the MMOD detector as dlib's ``cnn_face_detection_model_v1(img, upsample)`` does.

    Args:
        pixels: (height, width, 3) uint8 RGB image.
        upsample: how many times the image is doubled (``pyramid_up``) first.
        network: the detector read by :func:`facegate.engine.dlib_networks.read_network`.
        run: the network body: input tensor (1, 3, h, w) -> scores (1, windows, h', w').

    Returns:
        Detections in ``pixels`` coordinates, best first, overlaps suppressed.
    """
    if network.mmod is None:
        raise ValueError("not an MMOD network")
    image = pixels
    for _ in range(upsample):
        image = pyramid_up(image)
    tensor, rects = input_tensor(image, network.input)
    if min(tensor.shape[2:]) < _min_input_side(network.layers):
        return []  # too small for the network's windows (dlib raises here)
    scores = run(tensor)[0]
    found = decode_scores(scores, rects, network.mmod, output_to_input(network.layers))
    if upsample == 0:
        return found
    result = []
    for det in found:
        corners = [float(v) for v in det.rect]
        for _ in range(upsample):  # pyramid_down<2>::point_down: p / 2 - (1.25, 0.75)
            corners = [corners[0] / 2 - 1.25, corners[1] / 2 - 0.75,
                       corners[2] / 2 - 1.25, corners[3] / 2 - 0.75]
        box = (round_half_away(corners[0]), round_half_away(corners[1]),
               round_half_away(corners[2]), round_half_away(corners[3]))
        result.append(Detection(rect=box, score=det.score))
    return result
