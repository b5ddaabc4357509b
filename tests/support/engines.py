"""Engine wrappers for tests: the real engine of each pack, and one with its calls counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from facegate.engine.base import DetectOptions, Engine
from facegate.engine.default import engine_for_pack
from facegate.engine.faces import Face, Landmarks
from facegate.engine.pack_install import is_installed
from facegate.engine.packs import ModelPack, get_pack
from facegate.images import Image

#: Every shipped pack; the engine tests run on each.
PACK_IDS = ("dlib-resnet-v1", "faceplugin-arcface-v1")


def pack_engine(pack_id: str) -> Engine:
    """The engine of ``pack_id``; skips (saying how to install it) when the pack is missing."""
    pack = get_pack(pack_id)
    if pack.installable and not is_installed(pack):
        pytest.skip(f"model pack {pack_id} is not installed; "
                    f"run: facegate models install {pack_id}")
    return engine_for_pack(pack_id)


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


class FakeEngine:
    """A deterministic stand-in for the face engine, for tests about policy and grants.

    Every image holds one frontal "face" filling its centre. The 68 landmarks
    put the six points the pose estimate uses at the frontal projection of the
    generic face model, so quality checks pass on any textured image. The
    descriptor is a unit vector seeded by a hash of the pixels: the same image
    always gives the same descriptor, different images are far apart.
    """

    def __init__(self) -> None:
        from facegate.engine.packs import DLIB_RESNET_V1

        self._pack = DLIB_RESNET_V1
        self.calls: Counter[str] = Counter()

    @property
    def pack(self) -> ModelPack:
        return self._pack

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        from facegate.engine.faces import Box, DetectorKind, LandmarkScheme

        self.calls["detect"] += 1
        h, w = image.height, image.width
        box = Box(left=w // 4, top=h // 4, right=3 * w // 4, bottom=3 * h // 4)
        cx, cy = box.center
        points = ((cx - 20, cy - 15), (cx - 8, cy - 15), (cx + 8, cy - 15), (cx + 20, cy - 15),
                  (cx, cy + 5))
        return [Face(box=box, score=1.0, detector=DetectorKind.HOG,
                     landmarks=Landmarks(scheme=LandmarkScheme.FIVE, points=points))]

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        from facegate.engine.faces import LandmarkScheme

        self.calls["landmarks68"] += 1
        cx, cy = face.box.center
        scale = face.box.width / 900.0
        model = {30: (0.0, 0.0), 8: (0.0, -330.0), 36: (-225.0, 170.0), 45: (225.0, 170.0),
                 48: (-150.0, -150.0), 54: (150.0, -150.0)}
        points = tuple((cx + model[i][0] * scale, cy - model[i][1] * scale) if i in model
                       else (cx, cy) for i in range(68))
        return Landmarks(scheme=LandmarkScheme.SIXTY_EIGHT, points=points)

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        from PIL import Image as PILImage

        self.calls["align"] += 1
        b = face.box
        crop = PILImage.fromarray(image.pixels[b.top:b.bottom, b.left:b.right])
        return np.asarray(crop.resize((150, 150)), dtype=np.uint8)

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        import dataclasses
        import hashlib

        from facegate.engine.faces import Descriptor

        self.calls["embed"] += 1
        seed = int.from_bytes(hashlib.sha256(image.pixels.tobytes()).digest()[:8], "big")
        vector = np.random.default_rng(seed).normal(size=128)
        vector /= np.linalg.norm(vector)
        return [dataclasses.replace(f, descriptor=Descriptor(
            vector=vector.astype(np.float32), pack=self._pack.id,
            pack_version=self._pack.version)) for f in faces]
