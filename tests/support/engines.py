"""Engine wrappers for tests: the real engine, with its calls counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from facegate.engine.base import DetectOptions, Engine
from facegate.engine.faces import Face, Landmarks
from facegate.engine.packs import ModelPack
from facegate.images import Image


class CountingEngine:
    """Delegates to a real engine and counts every call, to prove refusals touch no face."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    @property
    def pack(self) -> ModelPack:
        return self.inner.pack

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        self.calls["detect"] += 1
        return self.inner.detect(image, options)

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        self.calls["landmarks68"] += 1
        return self.inner.landmarks68(image, face)

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        self.calls["align"] += 1
        return self.inner.align(image, face)

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        self.calls["embed"] += 1
        return self.inner.embed(image, faces)
