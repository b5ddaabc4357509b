"""The dlib engine: dlib's detectors, shape predictors and ResNet descriptor.

The model files come from the installed ``face_recognition_models`` package
(or a folder given explicitly); nothing is ever downloaded. Each model loads
once, on first use. dlib types stay inside this module.

The descriptor of a face averages six views: the aligned chip at the pack's
three paddings (0.25, 0.20, 0.30: the face a little larger and smaller), each
with its mirror image (see :mod:`facegate.engine.views`). On LFW View 1 this
test-time augmentation was chosen by cross-validation on pairsDevTrain alone
(see docs/accuracy.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelPackMissing
from ..images import Image
from .base import DetectOptions, DetectorChoice
from .detection import (
    Detection,
    faces_from_detections,
    fallback_upsample,
    scaled_for_detection,
)
from .faces import Box, Descriptor, DetectorKind, Face, Landmarks, LandmarkScheme
from .model_files import LazyModels, model_file
from .packs import DLIB_RESNET_V1, ModelPack
from .views import average_views

__all__ = ["DlibEngine"]

def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ModelPackMissing(
            "dlib is not installed; run: pip install dlib-bin",
            details={"pack": DLIB_RESNET_V1.id},
        ) from None
    return dlib


#: dlib objects that hold mutable state while they run (the shape predictors do not).
_NOT_THREAD_SAFE = frozenset({"hog", "cnn", "resnet"})


class DlibEngine:
    """Face engine on dlib and the ``face_recognition_models`` files.

    Args:
        models_dir: folder holding the four ``.dat`` files; defaults to the
            installed ``face_recognition_models`` package.
    """

    def __init__(self, models_dir: Path | None = None) -> None:
        self._models_dir = models_dir
        self._models = LazyModels(self._load)
        self._per_thread = threading.local()

    @property
    def pack(self) -> ModelPack:
        return DLIB_RESNET_V1

    # -- model loading ------------------------------------------------------

    def _model(self, name: str) -> Any:
        if name not in _NOT_THREAD_SAFE:
            return self._models.get(name)
        # dlib's detectors and networks keep working buffers in the object: two threads
        # running one at once crash the process, so each thread gets its own.
        mine: LazyModels | None = getattr(self._per_thread, "models", None)
        if mine is None:
            mine = self._per_thread.models = LazyModels(self._load)
        return mine.get(name)

    def _load(self, name: str) -> Any:
        dlib = _import_dlib()
        if name == "hog":
            return dlib.get_frontal_face_detector()
        path = model_file(self._models_dir, name)
        loaders: dict[str, Callable[[str], Any]] = {
            "cnn": dlib.cnn_face_detection_model_v1,
            "sp5": dlib.shape_predictor,
            "sp68": dlib.shape_predictor,
            "resnet": dlib.face_recognition_model_v1,
        }
        return loaders[name](str(path))

    # -- detection ----------------------------------------------------------

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        options = options or DetectOptions()
        pixels, scale = scaled_for_detection(image.pixels, options.max_side)
        found: list[Detection] = []
        if options.detector in (DetectorChoice.HOG, DetectorChoice.AUTO):
            found = self._run_hog(pixels, options.upsample)
        if options.detector is DetectorChoice.CNN:
            found = self._run_cnn(pixels, options.upsample)
        elif options.detector is DetectorChoice.AUTO and not found and options.fallbacks:
            found = self._run_cnn(pixels, fallback_upsample(pixels, options.upsample))
        return faces_from_detections(image, found, scale,
                                     lambda box: self._shape(image, box, "sp5"))

    def _run_hog(self, pixels: npt.NDArray[np.uint8],
                 upsample: int) -> list[tuple[Box, float, DetectorKind]]:
        rects, scores, _ = self._model("hog").run(pixels, upsample, 0.0)
        return [(_box(r), float(s), DetectorKind.HOG) for r, s in zip(rects, scores, strict=True)]

    def _run_cnn(self, pixels: npt.NDArray[np.uint8],
                 upsample: int) -> list[tuple[Box, float, DetectorKind]]:
        return [(_box(d.rect), float(d.confidence), DetectorKind.CNN)
                for d in self._model("cnn")(pixels, upsample)]

    # -- landmarks and alignment -------------------------------------------

    def _shape(self, image: Image, box: Box, model: str) -> Landmarks:
        dlib = _import_dlib()
        rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        shape = self._model(model)(image.pixels, rect)
        scheme = LandmarkScheme.FIVE if model == "sp5" else LandmarkScheme.SIXTY_EIGHT
        points = tuple((float(p.x), float(p.y)) for p in shape.parts())
        return Landmarks(scheme=scheme, points=points)

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        return self._shape(image, face.box, "sp68")

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        return self._chip(image, face, self.pack.chip_padding)

    def _chip(self, image: Image, face: Face, padding: float) -> npt.NDArray[np.uint8]:
        dlib = _import_dlib()
        b = face.box
        rect = dlib.rectangle(b.left, b.top, b.right - 1, b.bottom - 1)
        parts = [dlib.point(round(x), round(y)) for x, y in face.landmarks.points]
        shape = dlib.full_object_detection(rect, parts)
        chip = dlib.get_face_chip(image.pixels, shape, self.pack.chip_size, padding)
        return np.ascontiguousarray(chip, dtype=np.uint8)

    # -- descriptors --------------------------------------------------------

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        if not faces:
            return []
        batch: list[npt.NDArray[np.uint8]] = []
        for face in faces:
            for padding in self.pack.view_paddings:
                chip = self._chip(image, face, padding)
                batch += [chip, np.ascontiguousarray(chip[:, ::-1])]
        raw = np.asarray([np.asarray(v) for v in
                          self._model("resnet").compute_face_descriptor(batch)], dtype=np.float64)
        return [
            replace(face, descriptor=Descriptor(vector=v, pack=self.pack.id,
                                                pack_version=self.pack.version))
            for face, v in zip(faces, average_views(raw, len(faces)), strict=True)
        ]


def _box(rect: Any) -> Box:
    return Box(left=int(rect.left()), top=int(rect.top()),
               right=int(rect.right()) + 1, bottom=int(rect.bottom()) + 1)
