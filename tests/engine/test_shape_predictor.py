"""The numpy shape predictors give dlib's landmarks exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facegate.engine.onnx_engine import OnnxEngine
from facegate.engine.shape_predictor import read_shape_predictor
from facegate.images import load_image


def test_five_point_model_structure(models_dir: Path) -> None:
    sp = read_shape_predictor(models_dir / "shape_predictor_5_face_landmarks.dat")
    assert sp.num_parts == 5
    assert sp.split_idx.shape == (15, 500, 15, 2)
    assert sp.leaves.shape == (15, 500, 16, 10)
    assert sp.anchors.shape == sp.deltas.shape[:2]


@pytest.mark.parametrize("model", ["sp5", "sp68"])
def test_landmarks_equal_dlib(model: str, onnx_engine: OnnxEngine, dlib_ref: Any,
                              models_dir: Path, face_images: list[Path]) -> None:
    name = {"sp5": "shape_predictor_5_face_landmarks.dat",
            "sp68": "shape_predictor_68_face_landmarks.dat"}[model]
    reference = dlib_ref.shape_predictor(str(models_dir / name))
    detector = dlib_ref.get_frontal_face_detector()
    predictor = onnx_engine._model(model)
    checked = 0
    for path in face_images:
        pixels = load_image(path).pixels
        for rect in detector(pixels, 0 if max(pixels.shape) > 1000 else 1):
            want = np.array([(p.x, p.y) for p in reference(pixels, rect).parts()])
            got = predictor.predict(pixels, (rect.left(), rect.top(), rect.right(),
                                             rect.bottom()))
            np.testing.assert_array_equal(got, want, err_msg=str(path))
            checked += 1
    assert checked >= 8


def test_features_outside_the_image_read_as_zero(onnx_engine: OnnxEngine) -> None:
    # a box hanging off the image corner: dlib reads 0 for outside pixels; nothing raises
    pixels = np.full((40, 40, 3), 200, dtype=np.uint8)
    points = onnx_engine._model("sp5").predict(pixels, (-30, -30, 20, 20))
    assert points.shape == (5, 2)


def test_regression_float32_products_not_blas(onnx_engine: OnnxEngine, shared_data: Path) -> None:
    """LFW Oscar_Bolanos_0001: a feature pixel lands 5e-6 px from a rounding edge, so the
    warp must round each float32 product as dlib does (a BLAS matmul moved a landmark 1 px)."""
    pixels = load_image(shared_data / "lfw" / "Oscar_Bolanos" / "Oscar_Bolanos_0001.jpg").pixels
    points = onnx_engine._model("sp5").predict(pixels, (67, 80, 175, 187))
    assert points.tolist() == [[154, 112], [137, 113], [91, 111], [109, 113], [124, 150]]
