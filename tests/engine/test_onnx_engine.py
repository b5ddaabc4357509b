"""The ONNX engine gives the dlib engine's results: boxes, landmarks, chips, descriptors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import facegate.engine.onnx_engine as onnx_engine_module
from facegate.analysis import FaceAnalyzer
from facegate.engine.base import DetectOptions, DetectorChoice, Engine
from facegate.engine.default import default_engine, engine_for_pack
from facegate.engine.onnx_engine import OnnxEngine
from facegate.engine.selection import best_pack
from facegate.errors import InvalidArgument
from facegate.images import load_image

#: The issue's bar: descriptors within 1e-4 (Euclidean), boxes and landmarks within 1 px.
DESCRIPTOR_TOLERANCE = 1e-4


def test_is_an_engine_and_runs_the_dlib_pack(onnx_engine: OnnxEngine) -> None:
    assert isinstance(onnx_engine, Engine)
    assert onnx_engine.pack.id == "dlib-resnet-v1"
    assert isinstance(engine_for_pack("dlib-resnet-v1"), OnnxEngine)
    # the default engine runs the best-measured installed pack, dlib's on ONNX without
    # the ArcFace pack
    assert default_engine().pack.id == best_pack()
    assert FaceAnalyzer().engine.pack.id == best_pack()
    if best_pack() == "dlib-resnet-v1":
        assert isinstance(default_engine(), OnnxEngine)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidArgument):
        OnnxEngine(threads=0)
    with pytest.raises(InvalidArgument):
        OnnxEngine(batch_size=0)


def test_describe_chips_checks_the_shape(onnx_engine: OnnxEngine) -> None:
    with pytest.raises(InvalidArgument):
        onnx_engine.describe_chips(np.zeros((2, 100, 100, 3), dtype=np.uint8))
    assert onnx_engine.describe_chips(np.zeros((0, 150, 150, 3), dtype=np.uint8)).shape == (0, 128)


def test_batched_and_single_descriptors_agree(onnx_engine: OnnxEngine) -> None:
    chips = np.random.default_rng(1).integers(0, 256, (5, 150, 150, 3), dtype=np.uint8)
    batched = onnx_engine.describe_chips(chips)
    single = np.concatenate([onnx_engine.describe_chips(c[None]) for c in chips])
    np.testing.assert_allclose(batched, single, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-9)


def test_pipeline_equals_the_dlib_engine(onnx_engine: OnnxEngine, dlib_ref: Any,
                                         face_images: list[Path]) -> None:
    from facegate.engine.dlib_engine import DlibEngine

    reference = DlibEngine()
    faces = 0
    for path in face_images:
        image = load_image(path)
        want = reference.embed(image, reference.detect(image))
        got = onnx_engine.embed(image, onnx_engine.detect(image))
        assert len(got) == len(want), path
        for a, b in zip(want, got, strict=True):
            assert a.box == b.box and a.detector == b.detector and a.score == b.score
            assert a.landmarks == b.landmarks
            assert a.descriptor is not None and b.descriptor is not None
            distance = np.linalg.norm(a.descriptor.vector.astype(np.float64)
                                      - b.descriptor.vector.astype(np.float64))
            assert distance <= DESCRIPTOR_TOLERANCE, path
            assert b.descriptor.pack == a.descriptor.pack
            faces += 1
    assert faces >= 10


def test_without_dlib_hog_runs_the_cnn_detector(onnx_cache: Path, shared_data: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_engine_module, "dlib_available", lambda: False)
    engine = OnnxEngine(cache_dir=onnx_cache, threads=1)
    image = load_image(sorted((shared_data / "lfw").glob("*/*.jpg"))[0])
    faces = engine.detect(image, DetectOptions(detector=DetectorChoice.HOG, upsample=0))
    assert len(faces) == 1 and faces[0].detector.value == "cnn"
    assert len(engine.embed(image, faces)) == 1
