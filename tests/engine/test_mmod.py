"""The MMOD detector on ONNX Runtime: dlib's resizes, tiling and boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.dlib_networks import MMOD_DETECTOR, read_network
from facegate.engine.mmod import _tile_rects, output_to_input, pyramid_up
from facegate.engine.onnx_engine import OnnxEngine
from facegate.engine.resize import resize_bilinear
from facegate.images import load_image


@pytest.mark.parametrize("size", [(501, 502), (123, 77), (37, 250)])
def test_rgb_resize_matches_dlib(size: tuple[int, int], dlib_ref: Any) -> None:
    image = np.random.default_rng(3).integers(0, 256, (97, 131, 3), dtype=np.uint8)
    want = np.asarray(dlib_ref.resize_image(image, *size))
    np.testing.assert_array_equal(resize_bilinear(image, *size), want)


def test_float_resize_matches_dlib(dlib_ref: Any) -> None:
    plane = np.random.default_rng(4).normal(size=(90, 113)).astype(np.float32)
    want = np.asarray(dlib_ref.resize_image(plane, 75, 94))
    np.testing.assert_array_equal(resize_bilinear(plane, 75, 94), want)


def test_pyramid_up_size() -> None:
    assert pyramid_up(np.zeros((250, 250, 3), dtype=np.uint8)).shape == (501, 502, 3)


def test_tiles_of_a_small_image() -> None:
    rects, rows, cols = _tile_rects(100, 80, 10, 11)
    assert rects[0] == (11, 11, 90, 110)
    assert cols == 80 + 22
    assert all(r[2] < cols and r[3] < rows for r in rects)
    # each level is 5/6 of the one before
    assert [r[3] - r[1] + 1 for r in rects[:3]] == [100, 83, 69]


def test_output_maps_to_input_through_the_strides(models_dir: Path) -> None:
    net = read_network(models_dir / "mmod_human_face_detector.dat", MMOD_DETECTOR)
    assert output_to_input(net.layers) == (8.0, 14.0)


def test_cnn_detections_equal_dlib(onnx_engine: OnnxEngine, dlib_ref: Any, models_dir: Path,
                                   shared_data: Path) -> None:
    reference = dlib_ref.cnn_face_detection_model_v1(
        str(models_dir / "mmod_human_face_detector.dat"))
    paths = sorted((shared_data / "lfw").glob("*/*.jpg"))[5::1500]
    for path in paths:
        pixels = load_image(path).pixels
        want = [((d.rect.left(), d.rect.top(), d.rect.right() + 1, d.rect.bottom() + 1),
                 d.confidence) for d in reference(pixels, 1)]
        got = [((b.left, b.top, b.right, b.bottom), s)
               for b, s, _ in onnx_engine._run_cnn(pixels, 1)]
        assert [w[0] for w in want] == [g[0] for g in got], path
        np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-4)


def test_cnn_detector_finds_the_faces_without_dlib(onnx_engine: OnnxEngine,
                                                   shared_data: Path) -> None:
    image = load_image(shared_data / "samples" / "identity" / "deepface" / "tests" / "unit"
                       / "dataset" / "couple.jpg")
    faces = onnx_engine.detect(image, DetectOptions(detector=DetectorChoice.CNN, upsample=0))
    assert len(faces) == 2
    assert all(f.detector.value == "cnn" for f in faces)


@pytest.mark.parametrize("side", [1, 6, 7, 30])
def test_tiny_images_give_no_faces(side: int, onnx_engine: OnnxEngine) -> None:
    # dlib raises (or worse) when the pyramid is smaller than the network's windows
    pixels = np.full((side, side, 3), 128, dtype=np.uint8)
    assert onnx_engine._run_cnn(pixels, 0) == []
    assert onnx_engine._run_cnn(pixels, 1) == []
