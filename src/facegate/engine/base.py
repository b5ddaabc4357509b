"""The engine interface: find faces, place landmarks, align, describe.

An engine is anything with this shape. The real one is
:class:`facegate.engine.dlib_engine.DlibEngine`; others (ONNX packs) follow the
same protocol, so the rest of facegate never learns which one runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument
from ..images import Image
from .faces import Face, Landmarks
from .packs import ModelPack

__all__ = ["DetectOptions", "DetectorChoice", "Engine"]


class DetectorChoice(StrEnum):
    """Which detector to run.

    ``hog`` is fast and finds frontal faces; ``cnn`` (dlib's MMOD network) also
    finds turned and small faces but is much slower; ``auto`` runs HOG and falls
    back to the CNN only when HOG finds nothing.
    """

    HOG = "hog"
    CNN = "cnn"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """How to look for faces.

    Args:
        detector: which detector to run; ``auto`` (HOG, then dlib's CNN where HOG
            finds nothing) by default, the pipeline the benchmarks measure.
        upsample: how many times to double the image before detecting; each
            doubling finds faces half as small and costs about four times as much.
        max_side: images whose longer side exceeds this are scaled down for
            detection only (landmarks and descriptors use full resolution), so
            the cost of a phone photo stays bounded.
        fallbacks: where the first detector finds nothing, try the slower ones
            (``auto``'s CNN, an ArcFace pack's padded retry and turned-face
            fallback). A camera's frames, most of them without a face, are looked
            at without them, so that an empty frame costs one detector pass.
    """

    detector: DetectorChoice = DetectorChoice.AUTO
    upsample: int = 1
    max_side: int = 1280
    fallbacks: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.upsample <= 3:
            raise InvalidArgument("upsample must be between 0 and 3",
                                  details={"upsample": self.upsample})
        if self.max_side < 64:
            raise InvalidArgument("max_side must be at least 64",
                                  details={"max_side": self.max_side})


@runtime_checkable
class Engine(Protocol):
    """A face engine running one model pack."""

    @property
    def pack(self) -> ModelPack:
        """The model pack whose descriptors this engine makes."""
        ...

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        """Find faces, each with a box, a score and 5-point landmarks, largest first."""
        ...

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        """Place the 68 iBUG landmarks on a detected face."""
        ...

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        """The aligned RGB face chip the descriptor network sees."""
        ...

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        """Return ``faces`` with their descriptors filled in, in the same order."""
        ...
