"""Eye aspect ratio and the planar residual on exact, hand-made landmark sets."""

from __future__ import annotations

import numpy as np

from facegate.liveness.signals import eye_aspect_ratio, fit_homography, planar_residual


def _face() -> np.ndarray:
    rng = np.random.default_rng(7)
    pts = rng.uniform(100, 300, size=(68, 2))
    # two eyes 80 px apart, each 30 px wide and 10 px high
    for first, cx in ((36, 160.0), (42, 240.0)):
        pts[first:first + 6] = [(cx - 15, 200), (cx - 5, 195), (cx + 5, 195),
                                (cx + 15, 200), (cx + 5, 205), (cx - 5, 205)]
    return pts


def test_eye_aspect_ratio_is_eye_height_over_width() -> None:
    assert eye_aspect_ratio(_face()) == 10 / 30


def test_a_homography_of_every_point_leaves_no_planar_residual() -> None:
    src = _face()
    h = np.array([[1.1, 0.2, 15.0], [-0.1, 0.9, 4.0], [0.0004, -0.0002, 1.0]])
    moved = np.column_stack([src, np.ones(68)]) @ h.T
    dst = moved[:, :2] / moved[:, 2:3]
    assert np.allclose(fit_homography(src, dst), h, atol=1e-6)
    assert planar_residual(src, dst) < 1e-6


def test_a_nose_moving_off_the_face_plane_shows_as_residual() -> None:
    src = _face()
    dst = src.copy()
    dst[27:36, 0] += 16.0  # the nose shifts sideways by a fifth of the eye distance
    assert abs(planar_residual(src, dst) - 0.2) < 1e-6
