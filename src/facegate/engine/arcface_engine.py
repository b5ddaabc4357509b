"""The engine for ArcFace-style packs (``faceplugin-arcface-v1``, ``onnx-custom/*``).

Two front ends find faces and place their 68 landmarks:

* ``faceplugin`` (the default for a pack that ships a detector and a landmark
  model): the pack's own networks (:mod:`facegate.engine.faceplugin_front`).
  Measured against dlib's on LFW View 1 and the East-Asian set (portraits) they
  find every face, give the same verification accuracy within noise, and are
  about ten times faster (docs/front-ends.md). They see the whole image at
  320x240, so faces smaller than about a tenth of the image height are
  missed; the detector options (HOG/CNN, upsampling) do not apply. Where the
  detector finds nothing, two more tries follow, in order:

  - the *padded retry*: the image inside a black border of
    :data:`PADDING` of its side on every edge, for close-up crops where the
    face fills the frame (the detector was trained on faces with context
    around them);
  - the *turned-face fallback*: dlib's MMOD network (ONNX), which finds
    turned faces the pack's detector misses (on CFP's frontal-profile images
    it misses far fewer), with the pack's landmark model on a square box
    around it. Such faces are marked ``cnn``; the quality check refuses one
    turned beyond the pose limit as ``turned_away`` before anything is
    described from it.
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
from .base import DetectOptions, DetectorChoice
from .faceplugin_front import FacepluginDetector, FacepluginLandmarker
from .faces import Box, Descriptor, DetectorKind, Face, Landmarks, LandmarkScheme
from .model_files import LazyModels
from .onnx_engine import OnnxEngine
from .pack_install import installed_files
from .packs import ModelPack, PackKind

__all__ = ["FRONT_ENDS", "PADDING", "ArcfaceEngine"]

#: The front ends an ArcFace-style engine can run.
FRONT_ENDS = ("faceplugin", "dlib")
#: The border of the padded retry, as a share of the image's side on each edge.
PADDING = 0.3
#: The landmark model's box for a dlib detection: a square this many times the
#: dlib box's side, its centre moved down by :data:`_SQUARE_SHIFT` of the square's
#: side (the pack's detector boxes are square, about 1.3x as tall as dlib's and
#: reach lower, to the chin).
_SQUARE_SCALE = 1.3
_SQUARE_SHIFT = 0.1
#: How the turned-face fallback looks: dlib's MMOD network on the image scaled to at most
#: 640 px, without upsampling (it looks for the faces the pack's detector, which sees the
#: image at 320x240, could have found: large ones), so a frame without any face costs a
#: bounded extra pass.
_TURNED_OPTIONS = DetectOptions(detector=DetectorChoice.CNN, upsample=0, max_side=640)
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
        retries: with the ``faceplugin`` front end, try the padded image and then
            the turned-face fallback where the detector finds nothing.
    """

    def __init__(self, pack: ModelPack, *, cache_dir: Path | None = None,
                 threads: int | None = None, front: str | None = None,
                 retries: bool = True) -> None:
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
        self._retries = retries
        self._turned: OnnxEngine | None = None
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
        """Faces, largest first. With the faceplugin front end ``options`` do not apply
        (but ``fallbacks``), and each face comes with its 68 landmarks (placed anyway to
        derive the five); where the detector finds nothing, the padded retry and then
        the turned-face fallback are tried (see the module docstring), unless
        ``options.fallbacks`` is false."""
        if self._dlib is not None:
            return self._dlib.detect(image, options)
        faces = self._own(image.pixels, (0, 0), image)
        retries = self._retries and (options is None or options.fallbacks)
        if not faces and retries:
            faces = self._padded(image)
        if not faces and retries:
            faces = self._turned_faces(image)
        return sorted(faces, key=lambda f: -f.box.area)

    def _own(self, pixels: npt.NDArray[np.uint8], offset: tuple[int, int],
             image: Image) -> list[Face]:
        """The pack's detector and landmarks on ``pixels``, whose origin lies at
        ``offset`` (left, top) in the padded frame; boxes are clipped to ``image``."""
        detector: FacepluginDetector = self._models.get("detector")
        landmarker: FacepluginLandmarker = self._models.get("landmarks")
        dx, dy = offset
        faces = []
        for box, score in detector.detect(pixels):
            points = landmarker.predict(pixels, box) - np.array([dx, dy], dtype=np.float64)
            shown = Box(left=max(0, box.left - dx), top=max(0, box.top - dy),
                        right=min(image.width, box.right - dx),
                        bottom=min(image.height, box.bottom - dy))
            if shown.width < 2 or shown.height < 2:
                continue
            faces.append(_face(shown, score, DetectorKind.FACEPLUGIN, points))
        return faces

    def _padded(self, image: Image) -> list[Face]:
        """The padded retry: the image inside a black border."""
        dy, dx = round(PADDING * image.height), round(PADDING * image.width)
        padded = np.zeros((image.height + 2 * dy, image.width + 2 * dx, 3), dtype=np.uint8)
        padded[dy:dy + image.height, dx:dx + image.width] = image.pixels
        return self._own(padded, (dx, dy), image)

    def _turned_faces(self, image: Image) -> list[Face]:
        """The turned-face fallback: dlib's MMOD boxes, the pack's 68 landmarks on each."""
        if self._turned is None:
            self._turned = OnnxEngine(threads=self._threads)
        landmarker: FacepluginLandmarker = self._models.get("landmarks")
        faces = []
        for found in self._turned.detect(image, _TURNED_OPTIONS):
            cx, cy = found.box.center
            side = _SQUARE_SCALE * max(found.box.width, found.box.height)
            cy += _SQUARE_SHIFT * side
            square = Box(left=round(cx - side / 2), top=round(cy - side / 2),
                         right=round(cx + side / 2), bottom=round(cy + side / 2))
            points = landmarker.predict(image.pixels, square)
            faces.append(_face(found.box, found.score, DetectorKind.CNN, points))
        return faces

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


def _face(box: Box, score: float, detector: DetectorKind,
          points: npt.NDArray[np.float64]) -> Face:
    """A face with its 68 landmarks and dlib's five derived from them."""
    return Face(
        box=box, score=score, detector=detector,
        landmarks=Landmarks(scheme=LandmarkScheme.FIVE, points=tuple(
            (float(points[i, 0]), float(points[i, 1])) for i in _DLIB_FIVE)),
        landmarks68=Landmarks(scheme=LandmarkScheme.SIXTY_EIGHT, points=tuple(
            (float(x), float(y)) for x, y in points)))
