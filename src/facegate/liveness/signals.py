"""Pure measurements on 68-point landmarks: eye openness and planar motion.

* :func:`eye_aspect_ratio`: the eye aspect ratio of Soukupová and Čech (2016),
  the eye's height over its width, averaged over both eyes. An open eye gives
  about 0.25-0.35, a closed one under about 0.15.
* :func:`planar_residual`: how far the nose moves off the plane of the rest
  of the face. A homography is fitted from one frame's brow, eye and mouth
  points to another's, and the nose points (27-35) are mapped by it. A
  printed photo or a screen that is slid, rotated or tilted moves every
  landmark by one homography, so the nose lands where the homography puts it,
  up to landmark noise; a real head that turns moves the nose, which stands
  out of that plane, sideways against it (parallax). The residual is the RMS
  distance of the nose points, in units of the inter-ocular distance. The jaw
  outline is left out: it is a silhouette, and the landmark models place it
  least steadily.

Everything here takes and returns numpy arrays of ``(68, 2)`` image points.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["eye_aspect_ratio", "fit_homography", "inter_ocular", "planar_residual"]

Points = npt.NDArray[np.float64]

_RIGHT_EYE: Final = (36, 37, 38, 39, 40, 41)
_LEFT_EYE: Final = (42, 43, 44, 45, 46, 47)
_PLANE: Final = tuple(range(17, 27)) + tuple(range(36, 68))
_NOSE: Final = tuple(range(27, 36))


def _ear(eye: Points) -> float:
    p1, p2, p3, p4, p5, p6 = eye
    width = float(np.linalg.norm(p1 - p4))
    if width <= 0.0:
        return 0.0
    return float(np.linalg.norm(p2 - p6) + np.linalg.norm(p3 - p5)) / (2.0 * width)


def eye_aspect_ratio(points: Points) -> float:
    """The mean eye aspect ratio of both eyes of 68-point landmarks."""
    return (_ear(points[list(_RIGHT_EYE)]) + _ear(points[list(_LEFT_EYE)])) / 2.0


def inter_ocular(points: Points) -> float:
    """Distance between the two eye centres, in pixels."""
    right = points[list(_RIGHT_EYE)].mean(axis=0)
    left = points[list(_LEFT_EYE)].mean(axis=0)
    return float(np.linalg.norm(right - left))


def _normaliser(points: Points) -> npt.NDArray[np.float64]:
    centre = points.mean(axis=0)
    spread = float(np.sqrt(((points - centre) ** 2).sum(axis=1).mean()))
    s = np.sqrt(2.0) / spread if spread > 0 else 1.0
    return np.array([[s, 0.0, -s * centre[0]], [0.0, s, -s * centre[1]], [0.0, 0.0, 1.0]])


def fit_homography(src: Points, dst: Points) -> npt.NDArray[np.float64]:
    """The 3x3 homography taking ``src`` to ``dst`` by normalised DLT (least squares)."""
    if src.shape != dst.shape or src.shape[0] < 4:
        raise ValueError("a homography needs the same four or more points in both sets")
    ts, td = _normaliser(src), _normaliser(dst)
    a = np.column_stack([src, np.ones(len(src))]) @ ts.T
    b = np.column_stack([dst, np.ones(len(dst))]) @ td.T
    rows = []
    for (x, y, w), (u, v, z) in zip(a, b, strict=True):
        rows.append([0, 0, 0, -z * x, -z * y, -z * w, v * x, v * y, v * w])
        rows.append([z * x, z * y, z * w, 0, 0, 0, -u * x, -u * y, -u * w])
    _, _, vt = np.linalg.svd(np.asarray(rows, dtype=np.float64))
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ h @ ts
    return np.asarray(h / h[2, 2], dtype=np.float64)


def planar_residual(src: Points, dst: Points) -> float:
    """RMS distance of the nose points of ``dst`` from those of ``src`` mapped by the
    homography of the brow, eye and mouth points, over the inter-ocular distance of
    ``dst``."""
    plane, nose = list(_PLANE), list(_NOSE)
    h = fit_homography(src[plane], dst[plane])
    mapped = np.column_stack([src[nose], np.ones(len(nose))]) @ h.T
    mapped = mapped[:, :2] / mapped[:, 2:3]
    rms = float(np.sqrt(((mapped - dst[nose]) ** 2).sum(axis=1).mean()))
    iod = inter_ocular(dst)
    return rms / iod if iod > 0 else float("inf")
