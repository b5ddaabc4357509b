"""ArcFace-style descriptors: the five-point alignment and the network run.

An ArcFace-style network sees a 112x112 RGB chip on which the eyes, the tip of
the nose and the mouth corners sit on a fixed reference template
(:data:`ARCFACE_TEMPLATE`, the one published with InsightFace's ArcFace models
and used by the faceplugin pack). The chip is cut with the similarity
transform (rotation, uniform scale, shift) that maps the face's five points
onto the template in the least-squares sense (Umeyama's method), sampled
bilinearly; when the face is much larger than the chip, the image is first
halved by 2x2 averaging, as often as needed, so the sampling does not alias.

Five points come from the 68 iBUG landmarks (:func:`five_from_68`): the
centre of each eye's four eyelid points, the nose tip and the mean of the outer
and inner mouth corner on each side.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ARCFACE_TEMPLATE", "align_chip", "five_from_68", "similarity_transform"]

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

#: Where the left eye, right eye, nose tip and left and right mouth corners of
#: a face lie on a 112x112 ArcFace chip (image left first).
ARCFACE_TEMPLATE: Final = np.array([
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
])


def five_from_68(points: npt.ArrayLike) -> F64:
    """The five ArcFace points from 68 iBUG landmarks, image-left eye first."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected 68 points, got shape {p.shape}")
    return np.array([
        p[[37, 38, 40, 41]].mean(axis=0),
        p[[43, 44, 46, 47]].mean(axis=0),
        p[30],
        p[[48, 60]].mean(axis=0),
        p[[54, 64]].mean(axis=0),
    ])


def similarity_transform(src: npt.ArrayLike, dst: npt.ArrayLike) -> F64:
    """The 2x3 similarity transform taking ``src`` points closest to ``dst`` (Umeyama, 1991)."""
    s = np.asarray(src, dtype=np.float64)
    d = np.asarray(dst, dtype=np.float64)
    s_mean, d_mean = s.mean(axis=0), d.mean(axis=0)
    s_c, d_c = s - s_mean, d - d_mean
    cov = d_c.T @ s_c / len(s)
    u, sigma, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    variance = float((s_c ** 2).sum() / len(s))
    scale = float((sigma * sign).sum() / variance) if variance > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = d_mean - scale * rotation @ s_mean
    return matrix


def _halve(pixels: U8) -> U8:
    """2x2 box averaging (odd last row or column dropped)."""
    h, w = (pixels.shape[0] // 2) * 2, (pixels.shape[1] // 2) * 2
    block = pixels[:h, :w].astype(np.uint16)
    summed = block[0::2, 0::2] + block[1::2, 0::2] + block[0::2, 1::2] + block[1::2, 1::2]
    return ((summed + 2) // 4).astype(np.uint8)


def align_chip(pixels: U8, five: npt.ArrayLike, size: int = 112,
               template: npt.ArrayLike = ARCFACE_TEMPLATE) -> U8:
    """Cut the ``size`` x ``size`` aligned chip of the face whose five points are ``five``.

    Pixels outside the image are black, as in the reference pipelines.
    """
    ref = np.asarray(template, dtype=np.float64) * (size / 112.0)
    points = np.asarray(five, dtype=np.float64)
    matrix = similarity_transform(points, ref)
    source = pixels
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    while scale < 0.5 and min(source.shape[:2]) >= 4:
        source = _halve(source)
        points = (points - 0.5) / 2.0
        matrix = similarity_transform(points, ref)
        scale *= 2.0
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    sx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    sy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    return _bilinear(source, sx, sy)


def _bilinear(pixels: U8, sx: F64, sy: F64) -> U8:
    h, w = pixels.shape[:2]
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    padded = np.zeros((h + 2, w + 2, pixels.shape[2]), dtype=np.float64)
    padded[1:-1, 1:-1] = pixels
    xi = np.clip(x0 + 1, 0, w + 1)
    yi = np.clip(y0 + 1, 0, h + 1)
    xj = np.clip(x0 + 2, 0, w + 1)
    yj = np.clip(y0 + 2, 0, h + 1)
    out = ((1 - fy) * ((1 - fx) * padded[yi, xi] + fx * padded[yi, xj])
           + fy * ((1 - fx) * padded[yj, xi] + fx * padded[yj, xj]))
    outside = (sx < -1) | (sy < -1) | (sx > w) | (sy > h)
    out[outside] = 0.0
    result: U8 = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return result
