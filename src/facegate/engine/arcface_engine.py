"""The engine for ArcFace-style packs (``faceplugin-arcface-v1``, ``onnx-custom/*``).

Two front ends find faces and place their 68 landmarks:

* ``faceplugin`` (the default for a pack that ships a detector and a landmark
  model): the pack's own networks (:mod:`facegate.engine.faceplugin_front`).
  Measured against dlib's on LFW View 1 and the East-Asian set they find as
  many faces or more, give the same verification accuracy within noise, and
  are about ten times faster (docs/front-ends.md). They see the whole image
  at 320x240, so faces smaller than about a tenth of the image height are
  missed; the detector options (HOG/CNN, upsampling) do not apply.
* ``dlib``: the default engine's (dlib's HOG detector with the MMOD network as
  fallback, dlib's shape predictors in numpy;
  :class:`~facegate.engine.onnx_engine.OnnxEngine`), for small faces in
  large frames and for ``onnx-custom`` packs.

The five ArcFace points come from the 68 landmarks, the 112x112 chip is cut on
the ArcFace template (:mod:`facegate.engine.arcface`), and the pack's network
turns it into a unit-length descriptor. Every network is one of the pack's
installed, hash-checked files (:mod:`facegate.engine.pack_install`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument, ModelPackMissing
from ..images import Image
from .arcface import align_chip, five_from_68
from .base import DetectOptions
from .faceplugin_front import FacepluginDetector, FacepluginLandmarker
from .faces import Descriptor, DetectorKind, Face, Landmarks, LandmarkScheme
from .model_files import LazyModels
from .onnx_engine import OnnxEngine
from .pack_install import installed_files
from .packs import ModelPack, PackKind

__all__ = ["FRONT_ENDS", "ArcfaceEngine"]

#: The front ends an ArcFace-style engine can run.
FRONT_ENDS = ("faceplugin", "dlib")
#: The 68-point indices of dlib's 5-point scheme: each eye's outer and inner
#: corner (image-right eye first) and the base of the nose.
_DLIB_FIVE = (45, 42, 36, 39, 33)


class ArcfaceEngine:
    """Face engine running an ArcFace-style pack.

    Args:
        pack: the pack (its kind must be ``arcface``).
        cache_dir: the model cache holding the installed pack; the user cache by default.
        threads: ONNX Runtime intra-op threads; ``None`` lets it choose.
        front: ``faceplugin`` (the pack's own detector and landmarks; the default
            when the pack has them) or ``dlib``.
    """

    def __init__(self, pack: ModelPack, *, cache_dir: Path | None = None,
                 threads: int | None = None, front: str | None = None) -> None:
        if pack.kind is not PackKind.ARCFACE:
            raise InvalidArgument(f"pack {pack.id} is not an ArcFace-style pack",
                                  details={"pack": pack.id})
        roles = {f.role for f in pack.files}
        own = {"detector", "landmarks"} <= roles
        front = front or ("faceplugin" if own else "dlib")
        if front not in FRONT_ENDS or (front == "faceplugin" and not own):
            raise InvalidArgument(f"front end {front!r} is not available for {pack.id}",
                                  details={"front": front, "available": list(FRONT_ENDS)
                                           if own else ["dlib"]})
        self._pack = pack
        self._cache_dir = cache_dir
        self._threads = threads
        self._front_name = front
        self._dlib = OnnxEngine(threads=threads) if front == "dlib" else None
        self._models = LazyModels(self._load)

    @property
    def pack(self) -> ModelPack:
        return self._pack

    def prepare(self) -> None:
        """Check the pack's files and load its networks now rather than on first use."""
        for name in ("descriptor",) if self._dlib is not None else (
                "descriptor", "detector", "landmarks"):
            self._models.get(name)

    @property
    def front(self) -> str:
        """The front end that finds faces and places landmarks."""
        return self._front_name

    def _load(self, name: str) -> Any:
        path = installed_files(self._pack, self._cache_dir)[name]
        if name == "detector":
            return FacepluginDetector(path, self._threads)
        if name == "landmarks":
            return FacepluginLandmarker(path, self._threads)
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelPackMissing("onnxruntime is not installed; run: pip install onnxruntime",
                                   details={"pack": self._pack.id}) from None
        options = ort.SessionOptions()
        if self._threads is not None:
            options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return session, session.get_inputs()[0].name

    # -- finding faces ---------------------------------------------------------------

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        """Faces, largest first. With the faceplugin front end ``options`` do not apply,
        and each face comes with its 68 landmarks (placed anyway to derive the five)."""
        if self._dlib is not None:
            return self._dlib.detect(image, options)
        detector: FacepluginDetector = self._models.get("detector")
        faces = []
        for box, score in detector.detect(image.pixels):
            points = self._points68(image, box)
            faces.append(Face(
                box=box, score=score, detector=DetectorKind.FACEPLUGIN,
                landmarks=Landmarks(scheme=LandmarkScheme.FIVE, points=tuple(
                    (float(points[i, 0]), float(points[i, 1])) for i in _DLIB_FIVE)),
                landmarks68=Landmarks(scheme=LandmarkScheme.SIXTY_EIGHT, points=tuple(
                    (float(x), float(y)) for x, y in points))))
        return sorted(faces, key=lambda f: -f.box.area)

    def _points68(self, image: Image, box: Any) -> npt.NDArray[np.float64]:
        landmarker: FacepluginLandmarker = self._models.get("landmarks")
        return landmarker.predict(image.pixels, box)

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        if self._dlib is not None:
            return self._dlib.landmarks68(image, face)
        if face.landmarks68 is not None:  # placed when the face was detected
            return face.landmarks68
        points = self._points68(image, face.box)
        return Landmarks(scheme=LandmarkScheme.SIXTY_EIGHT,
                         points=tuple((float(x), float(y)) for x, y in points))

    # -- chips and descriptors ----------------------------------------------------

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        points = self.landmarks68(image, face).as_array()
        return align_chip(image.pixels, five_from_68(points), self._pack.chip_size)

    def describe_chips(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        """The network's unit-length output for each aligned chip, ``(n, 112, 112, 3)``."""
        size = self._pack.chip_size
        chips = np.ascontiguousarray(chips, dtype=np.uint8)
        if chips.ndim != 4 or chips.shape[1:] != (size, size, 3):
            raise InvalidArgument(f"chips must have shape (n, {size}, {size}, 3)",
                                  details={"shape": list(chips.shape)})
        session, input_name = self._models.get("descriptor")
        mean, scale = self._pack.normalisation
        tensors = (chips.astype(np.float32) - np.float32(mean)) / np.float32(scale)
        if self._pack.colour_order == "bgr":
            tensors = tensors[..., ::-1]
        tensors = np.ascontiguousarray(tensors.transpose(0, 3, 1, 2))
        out = np.zeros((chips.shape[0], self._pack.descriptor_size), dtype=np.float64)
        for i in range(chips.shape[0]):
            raw = np.asarray(session.run(None, {input_name: tensors[i:i + 1]})[0],
                             dtype=np.float64).reshape(-1)
            if raw.shape[0] != self._pack.descriptor_size:
                raise InvalidArgument("the network's output does not have the pack's size",
                                      details={"size": int(raw.shape[0]),
                                               "expected": self._pack.descriptor_size})
            out[i] = raw / max(float(np.linalg.norm(raw)), 1e-12)
        return out

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        if not faces:
            return []
        chips = np.stack([self.align(image, face) for face in faces])
        vectors = self.describe_chips(chips)
        return [replace(face, descriptor=Descriptor(vector=v.astype(np.float32),
                                                    pack=self._pack.id,
                                                    pack_version=self._pack.version))
                for face, v in zip(faces, vectors, strict=True)]
