"""Face chips cut in numpy equal dlib.get_face_chip, pyramid levels included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from facegate.engine.chips import extract_chip, face_chip_details, pyramid_down
from facegate.images import load_image


def test_chip_details_of_an_upright_face() -> None:
    # template points scaled by 2 and shifted: the chip rect is twice the chip, no rotation
    template = np.array([(0.8595674595992, 0.2134981538014), (0.6460604764104, 0.2289674387677),
                         (0.1205750620789, 0.2137274526848), (0.3340850613712, 0.2290642403242),
                         (0.4901123135679, 0.6277975316475)])
    chip_pts = (0.25 + template) / 1.5 * 150
    details = face_chip_details(chip_pts * 2 + 10, 150, 0.25)
    assert abs(details.angle) < 1e-12
    assert details.rect.right - details.rect.left + 1 == np.float64(300.0)


def test_pyramid_down_matches_dlib(dlib_ref: Any) -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (61, 47, 3), dtype=np.uint8)
    want = np.asarray(dlib_ref.pyramid_down(2)(image))
    np.testing.assert_array_equal(pyramid_down(image), want)


def test_chips_equal_dlib(dlib_ref: Any, models_dir: Path, face_images: list[Path]) -> None:
    predictor = dlib_ref.shape_predictor(str(models_dir / "shape_predictor_5_face_landmarks.dat"))
    detector = dlib_ref.get_frontal_face_detector()
    checked = big = 0
    for path in face_images:
        pixels = load_image(path).pixels
        for rect in detector(pixels, 0 if max(pixels.shape) > 1000 else 1):
            shape = predictor(pixels, rect)
            want = np.asarray(dlib_ref.get_face_chip(pixels, shape, 150, 0.25))
            details = face_chip_details([(p.x, p.y) for p in shape.parts()], 150, 0.25)
            np.testing.assert_array_equal(extract_chip(pixels, details), want, err_msg=str(path))
            checked += 1
            big += details.rect.right - details.rect.left > 300  # needs the pyramid
    assert checked >= 8 and big >= 2


def test_chip_off_the_image_edge_is_black_outside(dlib_ref: Any) -> None:
    pixels = np.full((120, 120, 3), 90, dtype=np.uint8)
    points = [(110, 30), (95, 31), (20, 30), (35, 31), (60, 80)]
    details = face_chip_details([(x + 60, y) for x, y in points], 150, 0.25)
    chip = extract_chip(pixels, details)
    rect = dlib_ref.rectangle(0, 0, 119, 119)
    shape = dlib_ref.full_object_detection(rect, [dlib_ref.point(x + 60, y) for x, y in points])
    np.testing.assert_array_equal(chip, np.asarray(dlib_ref.get_face_chip(pixels, shape, 150,
                                                                           0.25)))
    assert (chip[:, -5:] == 0).all()
