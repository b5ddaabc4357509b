"""Quality assessment on real faces: each reason is produced by the condition it names."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageFilter

from facegate.analysis import FaceAnalyzer
from facegate.engine.faces import Landmarks, LandmarkScheme
from facegate.images import Image, load_image
from facegate.quality import _MODEL_3D as MODEL_3D
from facegate.quality import _POSE_POINTS as POSE_POINTS
from facegate.quality import QualityReason, estimate_pose

OBAMA = "identity/face_recognition/examples/obama.jpg"
TWO_PEOPLE = "identity/face_recognition/examples/two_people.jpg"


@pytest.fixture(scope="module")
def obama(samples: Path) -> Image:
    return load_image(samples / OBAMA)


def _pil(image: Image) -> PILImage.Image:
    return PILImage.fromarray(image.pixels)


def test_a_clear_frontal_face_passes(analyzer: FaceAnalyzer, obama: Image) -> None:
    report = analyzer.assess_single(obama)
    assert report.passed, report.issues
    assert report.metrics["face_size"] > 200
    assert abs(report.metrics["yaw"]) < 15 and abs(report.metrics["pitch"]) < 15


def test_blur_is_low_sharpness(analyzer: FaceAnalyzer, obama: Image) -> None:
    blurred = _pil(obama).filter(ImageFilter.GaussianBlur(radius=5))
    report = analyzer.assess_single(np.asarray(blurred))
    assert report.reasons == (QualityReason.LOW_SHARPNESS,)


def test_underexposure_is_low_brightness(analyzer: FaceAnalyzer, obama: Image) -> None:
    dark = (obama.pixels.astype(np.float32) * 0.25).astype(np.uint8)
    report = analyzer.assess_single(dark)
    assert QualityReason.LOW_BRIGHTNESS in report.reasons


def test_overexposure_is_high_brightness(analyzer: FaceAnalyzer, obama: Image) -> None:
    bright = np.clip(obama.pixels.astype(np.float32) * 1.9 + 40, 0, 255).astype(np.uint8)
    report = analyzer.assess_single(bright)
    assert QualityReason.HIGH_BRIGHTNESS in report.reasons


def test_a_distant_face_is_small(analyzer: FaceAnalyzer, obama: Image) -> None:
    small = _pil(obama).resize((obama.width // 6, obama.height // 6), PILImage.Resampling.LANCZOS)
    report = analyzer.assess_single(np.asarray(small))
    assert QualityReason.SMALL_FACE in report.reasons
    assert report.metrics["face_size"] < 60


def test_two_people_are_multiple_faces(analyzer: FaceAnalyzer, samples: Path) -> None:
    report = analyzer.assess_single(samples / TWO_PEOPLE)
    assert report.reasons == (QualityReason.MULTIPLE_FACES,)
    reports = analyzer.assess(samples / TWO_PEOPLE)
    assert len(reports) == 2 and all(r.passed for r in reports)


def test_no_face(analyzer: FaceAnalyzer) -> None:
    wall = np.full((300, 300, 3), 128, dtype=np.uint8)
    assert analyzer.assess_single(wall).reasons == (QualityReason.NO_FACE,)
    assert analyzer.assess(wall)[0].reasons == (QualityReason.NO_FACE,)


def test_mirror_image_turns_the_other_way(analyzer: FaceAnalyzer, samples: Path) -> None:
    image = load_image(samples / "identity/face_recognition/examples/obama2.jpg")
    yaw = analyzer.assess_single(image).metrics["yaw"]
    mirrored = analyzer.assess_single(np.ascontiguousarray(image.pixels[:, ::-1]))
    assert abs(yaw) > 15
    assert mirrored.metrics["yaw"] == pytest.approx(-yaw, abs=4)


def _projected(yaw: float, pitch: float) -> Landmarks:
    """The generic face turned by ``yaw`` and ``pitch`` degrees, seen by an orthographic camera."""
    y, p = math.radians(yaw), math.radians(pitch)
    turn = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    nod = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    pts = MODEL_3D @ (nod @ turn).T
    points = [(0.0, 0.0)] * 68
    for index, (x, yy, _) in zip(POSE_POINTS, pts, strict=True):
        points[index] = (200 + 0.3 * x, 200 - 0.3 * yy)  # image y points down
    return Landmarks(scheme=LandmarkScheme.SIXTY_EIGHT, points=tuple(points))


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (30, 0), (-45, 0), (0, 20), (0, -25),
                                            (35, 15)])
def test_pose_estimate_recovers_a_known_rotation(yaw: float, pitch: float) -> None:
    est_yaw, est_pitch, _ = estimate_pose(_projected(yaw, pitch))
    assert est_yaw == pytest.approx(yaw, abs=1.0)
    assert est_pitch == pytest.approx(pitch, abs=1.0)


@pytest.mark.parametrize(("yaw", "pitch", "reasons"), [
    (60, 0, (QualityReason.TURNED_AWAY,)), (-55, 0, (QualityReason.TURNED_AWAY,)),
    (0, 40, (QualityReason.EXTREME_POSE,)), (0, 0, ())])
def test_a_face_turned_to_the_side_is_turned_away_and_a_nod_is_extreme_pose(
        yaw: float, pitch: float, reasons: tuple[QualityReason, ...]) -> None:
    from facegate.engine.faces import Box, DetectorKind, Face
    from facegate.quality import QualitySettings, assess_face

    rng = np.random.default_rng(0)
    chip = rng.integers(60, 200, size=(150, 150, 3), dtype=np.uint8)  # sharp, mid-grey
    face = Face(box=Box(100, 100, 300, 300), score=1.0, detector=DetectorKind.CNN,
                landmarks=_projected(0, 0))
    report = assess_face(face, chip, _projected(yaw, pitch), QualitySettings())
    assert report.reasons == reasons


def test_a_probe_outside_what_a_calibration_measured() -> None:
    from facegate.quality import outside_measured

    measured = {"min_face_size": 66.0, "min_sharpness": 78.0, "min_brightness": 84.0,
                "max_brightness": 206.0, "max_yaw": 46.7, "max_pitch": 28.3}
    inside = {"face_size": 120.0, "sharpness": 300.0, "brightness": 150.0, "yaw": -47.5,
              "pitch": 10.0}
    assert outside_measured(inside, measured) == ()  # within the pose margin
    assert outside_measured({**inside, "face_size": 50.0, "yaw": 60.0}, measured) == (
        QualityReason.SMALL_FACE, QualityReason.TURNED_AWAY)
    assert outside_measured(inside, {}) == ()
