"""Face quality assessment with machine-readable reasons.

In the manner of Rekognition's ``UnindexedFaces`` reasons, each check that
fails adds a :class:`QualityIssue` with a stable :class:`QualityReason`, the
measured value and the limit it broke. Enrollment refuses a face with any
issue; verification reports them.

The measures:

* size: width of the detected box, in image pixels;
* sharpness: variance of the Laplacian of the grey aligned chip (the chip is
  the same size for every face, so the measure does not depend on resolution);
* brightness: mean grey level of the centre of the aligned chip, 0-255;
* pose: yaw and pitch in degrees, from a scaled-orthographic fit of six of the
  68 landmarks to a generic 3D face; an estimate, good to about ten degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from .engine.faces import DetectorKind, Face, Landmarks, LandmarkScheme

__all__ = [
    "QualityIssue",
    "QualityReason",
    "QualityReport",
    "QualitySettings",
    "estimate_pose",
    "is_confident",
    "measure_brightness",
    "measure_sharpness",
    "outside_measured",
]


class QualityReason(StrEnum):
    """Why a face is not good enough. Values are stable in logs and the API."""

    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    SMALL_FACE = "small_face"
    LOW_SHARPNESS = "low_sharpness"
    EXTREME_POSE = "extreme_pose"
    TURNED_AWAY = "turned_away"
    LOW_BRIGHTNESS = "low_brightness"
    HIGH_BRIGHTNESS = "high_brightness"
    LOW_CONFIDENCE = "low_confidence"


@dataclass(frozen=True, slots=True)
class QualitySettings:
    """The limits a face must meet. Each is a named, documented setting.

    Args:
        min_face_size: smallest box width in pixels (dlib's HOG finds faces
            down to about 40 px with one upsampling; descriptors degrade below
            about 60 px).
        min_sharpness: smallest variance of the Laplacian of the 150x150 grey
            chip; sharp LFW faces measure in the hundreds, a Gaussian blur of
            sigma 2.5 brings them below 20.
        max_yaw: largest head turn, in degrees, left or right.
        max_pitch: largest nod, in degrees, up or down.
        min_brightness: darkest acceptable mean grey level of the face centre.
        max_brightness: brightest acceptable mean grey level of the face centre.
        min_hog_score: smallest HOG detection score; 99% of the central faces
            of LFW score above 0.42, while things that merely look like a face
            (a badge, a pattern) score near 0. CNN detections are not checked.
        min_faceplugin_score: smallest score of the faceplugin detector (a
            probability; it reports boxes from 0.65): on the labelled sample
            photos and 400 East-Asian portraits every main face scored at
            least 0.943 (95% above 0.998), while 18 of 23 other boxes, most of
            them shoulders, paintings and blurred background, scored below 0.93.
    """

    min_face_size: int = 60
    min_sharpness: float = 25.0
    max_yaw: float = 40.0
    max_pitch: float = 30.0
    min_brightness: float = 45.0
    max_brightness: float = 215.0
    min_hog_score: float = 0.3
    min_faceplugin_score: float = 0.93


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """One failed check: its reason, a sentence, the measured value and the limit."""

    reason: QualityReason
    message: str
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"reason": self.reason.value, "message": self.message,
                "value": self.value, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The outcome of a quality check on one face (or on an image with no usable face)."""

    issues: tuple[QualityIssue, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    face: Face | None = None

    @property
    def passed(self) -> bool:
        return not self.issues

    @property
    def reasons(self) -> tuple[QualityReason, ...]:
        return tuple(i.reason for i in self.issues)

    def as_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "reasons": [r.value for r in self.reasons],
                "issues": [i.as_dict() for i in self.issues],
                "metrics": {k: round(v, 2) for k, v in self.metrics.items()}}


def is_confident(face: Face, settings: QualitySettings) -> bool:
    """Whether the detector is sure enough that this is a face at all."""
    if face.detector is DetectorKind.HOG:
        return face.score >= settings.min_hog_score
    if face.detector is DetectorKind.FACEPLUGIN:
        return face.score >= settings.min_faceplugin_score
    return True


def measure_sharpness(chip: npt.NDArray[np.uint8]) -> float:
    """Variance of the 4-neighbour Laplacian of the grey chip."""
    grey = _grey(chip)
    lap = (grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1]
           - 4.0 * grey[1:-1, 1:-1])
    return float(lap.var())


def measure_brightness(chip: npt.NDArray[np.uint8]) -> float:
    """Mean grey level of the central half of the chip, where the face is."""
    grey = _grey(chip)
    h, w = grey.shape
    return float(grey[h // 4: 3 * h // 4, w // 4: 3 * w // 4].mean())


def _grey(chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    rgb = chip.astype(np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


# A generic 3D face, in millimetres-like units (x right, y up, z towards the
# camera), for the iBUG-68 points: nose tip, chin, outer eye corners, mouth corners.
_POSE_POINTS: Final = (30, 8, 36, 45, 48, 54)
_MODEL_3D: Final = np.array([
    (0.0, 0.0, 0.0),
    (0.0, -330.0, -65.0),
    (-225.0, 170.0, -135.0),
    (225.0, 170.0, -135.0),
    (-150.0, -150.0, -125.0),
    (150.0, -150.0, -125.0),
])


def estimate_pose(landmarks: Landmarks) -> tuple[float, float, float]:
    """Estimate (yaw, pitch, roll) in degrees from 68-point landmarks.

    Fits a scaled orthographic camera to six points of a generic 3D face by
    least squares. Yaw is positive when the face turns towards the image's
    right, pitch positive when the face tilts down (chin towards the chest),
    roll the tilt of the head within the image plane.
    """
    if landmarks.scheme is not LandmarkScheme.SIXTY_EIGHT:
        raise ValueError("pose needs 68-point landmarks")
    pts = landmarks.as_array()[list(_POSE_POINTS)]
    image_pts = np.column_stack([pts[:, 0], -pts[:, 1]])  # y up, like the model
    model = _MODEL_3D - _MODEL_3D.mean(axis=0)
    image_pts = image_pts - image_pts.mean(axis=0)
    # image_pts ~= model @ M, M is 3x2; its columns are scaled rotation rows.
    m, *_ = np.linalg.lstsq(model, image_pts, rcond=None)
    r1, r2 = m[:, 0], m[:, 1]
    r1 = r1 / np.linalg.norm(r1)
    r2 = r2 - r1 * float(r1 @ r2)
    r2 = r2 / np.linalg.norm(r2)
    r3 = np.cross(r1, r2)
    # The rotation is taken as roll . pitch . yaw (turn, then nod, then tilt in plane).
    yaw = math.degrees(math.atan2(float(-r3[0]), float(r3[2])))
    pitch = math.degrees(math.asin(float(np.clip(r3[1], -1.0, 1.0))))
    roll = math.degrees(math.atan2(float(-r1[1]), float(r2[1])))
    return yaw, pitch, roll


def assess_face(face: Face, chip: npt.NDArray[np.uint8], landmarks68: Landmarks,
                settings: QualitySettings) -> QualityReport:
    """Check one face against ``settings``; see the module docstring for the measures."""
    yaw, pitch, roll = estimate_pose(landmarks68)
    metrics = {
        "face_size": float(face.box.width),
        "sharpness": measure_sharpness(chip),
        "brightness": measure_brightness(chip),
        "yaw": yaw,
        "pitch": pitch,
        "roll": roll,
        "detection_score": face.score,
    }
    s = settings
    issues: list[QualityIssue] = []
    if not is_confident(face, s):
        issues.append(QualityIssue(QualityReason.LOW_CONFIDENCE,
                                   "this may not be a face; show the whole face to the camera",
                                   face.score,
                                   s.min_faceplugin_score
                                   if face.detector is DetectorKind.FACEPLUGIN
                                   else s.min_hog_score))
    if metrics["face_size"] < s.min_face_size:
        issues.append(QualityIssue(QualityReason.SMALL_FACE,
                                   f"face is {face.box.width} px wide, under {s.min_face_size} px;"
                                   " come closer", metrics["face_size"], s.min_face_size))
    if metrics["sharpness"] < s.min_sharpness:
        issues.append(QualityIssue(QualityReason.LOW_SHARPNESS,
                                   "face is too blurry; hold still and check the focus",
                                   metrics["sharpness"], s.min_sharpness))
    if abs(yaw) > s.max_yaw:
        issues.append(QualityIssue(
            QualityReason.TURNED_AWAY,
            f"head is turned away (yaw {yaw:.0f}°); face the camera", abs(yaw), s.max_yaw))
    if abs(pitch) > s.max_pitch:
        issues.append(QualityIssue(
            QualityReason.EXTREME_POSE,
            f"head is tilted up or down (pitch {pitch:.0f}°); look straight at the camera",
            abs(pitch), s.max_pitch))
    if metrics["brightness"] < s.min_brightness:
        issues.append(QualityIssue(QualityReason.LOW_BRIGHTNESS,
                                   "face is too dark; add light in front of the face",
                                   metrics["brightness"], s.min_brightness))
    if metrics["brightness"] > s.max_brightness:
        issues.append(QualityIssue(QualityReason.HIGH_BRIGHTNESS,
                                   "face is over-exposed; reduce the light on the face",
                                   metrics["brightness"], s.max_brightness))
    return QualityReport(issues=tuple(issues), metrics=metrics, face=face)


#: Degrees of yaw or pitch past a calibration's bound before a face counts as outside it.
POSE_MARGIN: Final = 1.0
#: The measures a calibration keeps of its faces, and the reason a probe outside them gets.
_FLOOR: Final = (
    ("min_face_size", "face_size", QualityReason.SMALL_FACE, False),
    ("min_sharpness", "sharpness", QualityReason.LOW_SHARPNESS, False),
    ("min_brightness", "brightness", QualityReason.LOW_BRIGHTNESS, False),
    ("max_brightness", "brightness", QualityReason.HIGH_BRIGHTNESS, True),
    ("max_yaw", "yaw", QualityReason.TURNED_AWAY, True),
    ("max_pitch", "pitch", QualityReason.EXTREME_POSE, True),
)


def outside_measured(metrics: Mapping[str, float],
                     measured: Mapping[str, float]) -> tuple[QualityReason, ...]:
    """The reasons a face's ``metrics`` lie outside what a calibration ``measured`` of
    its own faces (``min_face_size``, ``min_sharpness``, ``min_brightness``,
    ``max_brightness``, ``max_yaw``, ``max_pitch``; yaw and pitch in absolute degrees).

    The calibration's error rates say nothing about such a face, so a decision on it
    would rest on nothing measured. The pose estimate is good to about ten degrees, so
    yaw and pitch count as outside only beyond :data:`POSE_MARGIN` degrees past the
    bound.
    """
    out: list[QualityReason] = []
    for bound, metric, why, upper in _FLOOR:
        if bound not in measured or metric not in metrics:
            continue
        angle = metric in ("yaw", "pitch")
        value = abs(metrics[metric]) if angle else metrics[metric]
        limit = measured[bound] + (POSE_MARGIN if angle else 0.0)
        beyond = value > limit if upper else value < limit
        if beyond and why not in out:
            out.append(why)
    return tuple(out)


def no_face_report() -> QualityReport:
    return QualityReport(issues=(QualityIssue(QualityReason.NO_FACE, "no face was found"),))


def multiple_faces_report(count: int, limit: int = 1) -> QualityReport:
    return QualityReport(issues=(QualityIssue(
        QualityReason.MULTIPLE_FACES,
        f"{count} faces were found where {limit} is required", float(count), float(limit)),))
