"""What the engine returns: frozen, slotted dataclasses and nothing else.

No engine type (dlib or onnx) ever leaves :mod:`facegate.engine`. A face has a
box, a detection score, landmarks and, once embedded, a descriptor that names
the model pack that made it. There is deliberately no field for age, sex,
race, emotion or any other attribute (R11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "Box",
    "Descriptor",
    "DetectorKind",
    "Face",
    "LandmarkScheme",
    "Landmarks",
    "Point",
]

Point = tuple[float, float]


class DetectorKind(StrEnum):
    """Which face detector found a face."""

    HOG = "hog"
    CNN = "cnn"
    FACEPLUGIN = "faceplugin"


class LandmarkScheme(StrEnum):
    """The landmark layout: dlib's 5-point (eye corners and nose base) or iBUG 68-point."""

    FIVE = "5-point"
    SIXTY_EIGHT = "68-point"


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in image pixels; ``right`` and ``bottom`` are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def center(self) -> Point:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def as_dict(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Facial landmark points, in image pixels, in the order of their scheme."""

    scheme: LandmarkScheme
    points: tuple[Point, ...]

    def as_array(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.points, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True, slots=True, eq=False)
class Descriptor:
    """A face descriptor (template vector) and the model pack that made it.

    ``vector`` is read-only and unit length, so Euclidean distance and cosine
    similarity order pairs the same way. Descriptors of different packs are
    never comparable.
    """

    vector: npt.NDArray[np.float32] = field(repr=False)
    pack: str
    pack_version: str

    def __post_init__(self) -> None:
        self.vector.setflags(write=False)

    @property
    def size(self) -> int:
        return int(self.vector.shape[0])

    def to_bytes(self) -> bytes:
        """Little-endian float32 bytes of the vector."""
        return self.vector.astype("<f4").tobytes()


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face, with its descriptor when one was computed."""

    box: Box
    score: float
    detector: DetectorKind
    landmarks: Landmarks
    landmarks68: Landmarks | None = None
    descriptor: Descriptor | None = None
