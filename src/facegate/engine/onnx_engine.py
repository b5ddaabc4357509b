"""The ONNX engine: dlib's shipped models, run by ONNX Runtime and numpy.

Same models, same pipeline and same results as :class:`DlibEngine` (pack
``dlib-resnet-v1``): the descriptor network is converted once from
``dlib_face_recognition_resnet_model_v1.dat`` into an ONNX graph
(:mod:`facegate.engine.onnx_graphs`), the 5- and 68-point shape predictors run
in numpy (:mod:`facegate.engine.shape_predictor`) and chips are cut as dlib's
``get_face_chip`` cuts them (:mod:`facegate.engine.chips`). Conversions are
cached by file hash (:mod:`facegate.engine.model_cache`).

The MMOD CNN detector runs on ONNX Runtime too, with its input pyramid and box
decoding in numpy (:mod:`facegate.engine.mmod`). dlib's HOG detector is not
ported: HOG (and the HOG stage of ``auto``) runs on dlib when dlib is
installed; without dlib, HOG and ``auto`` run the MMOD detector instead, and
each face's ``detector`` field says which one found it. Descriptors of many
faces are computed in batches (:meth:`OnnxEngine.describe_chips`);
``threads`` sets ONNX Runtime's intra-op thread count.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument, ModelPackMissing
from ..images import Image
from .base import DetectOptions, DetectorChoice
from .chips import extract_chip, face_chip_details
from .detection import (
    Detection,
    faces_from_detections,
    fallback_upsample,
    scaled_for_detection,
)
from .faces import Box, Descriptor, DetectorKind, Face, Landmarks, LandmarkScheme
from .mmod import detect_faces
from .model_cache import cached_file
from .model_files import LazyModels, model_file
from .packs import DLIB_RESNET_V1, ModelPack
from .shape_predictor import ShapePredictor
from .views import average_views

__all__ = ["OnnxEngine", "dlib_available", "onnx_available"]

_SP_ARRAYS: Final = ("initial_shape", "split_idx", "split_thresh", "leaves", "anchors", "deltas")


def onnx_available() -> bool:
    """Whether ``onnxruntime`` can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def dlib_available() -> bool:
    """Whether dlib (the optional reference engine and HOG detector) can be imported."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def _convert_network(path: Path) -> bytes:
    from .dlib_networks import read_network
    from .onnx_graphs import build_descriptor_graph

    return build_descriptor_graph(read_network(path))


def _convert_detector(path: Path) -> bytes:
    from .dlib_networks import MMOD_DETECTOR, read_network
    from .onnx_graphs import build_detector_graph

    return build_detector_graph(read_network(path, MMOD_DETECTOR))


def _convert_shape_predictor(path: Path) -> bytes:
    from .shape_predictor import read_shape_predictor

    buffer = io.BytesIO()
    np.savez(buffer, **read_shape_predictor(path).arrays())  # type: ignore[arg-type]
    return buffer.getvalue()


class OnnxEngine:
    """Face engine running dlib's models on ONNX Runtime and numpy.

    Args:
        models_dir: folder holding the ``.dat`` files; defaults to the installed
            ``face_recognition_models`` package.
        threads: ONNX Runtime intra-op threads; ``None`` lets it choose (all cores).
        cache_dir: where converted models are kept; the user cache by default.
        providers: ONNX Runtime execution providers, best first; CPU by default.
        batch_size: most chips sent to the network in one run.
    """

    def __init__(self, models_dir: Path | None = None, *,
                 threads: int | None = None, cache_dir: Path | None = None,
                 providers: Sequence[str] | None = None, batch_size: int = 32) -> None:
        if threads is not None and threads < 1:
            raise InvalidArgument("threads must be at least 1", details={"threads": threads})
        if batch_size < 1:
            raise InvalidArgument("batch_size must be at least 1",
                                  details={"batch_size": batch_size})
        self._models_dir = models_dir
        self._threads = threads
        self._cache_dir = cache_dir
        self._providers = list(providers) if providers else ["CPUExecutionProvider"]
        self._batch_size = batch_size
        self._models = LazyModels(self._load)

    @property
    def pack(self) -> ModelPack:
        return DLIB_RESNET_V1

    # -- model loading ------------------------------------------------------

    def prepare(self) -> None:
        """Convert (if not cached yet) and load every model now rather than on first use."""
        for name in ("resnet", "cnn", "sp5", "sp68"):
            self._model(name)

    def _path(self, name: str) -> Path:
        return model_file(self._models_dir, name)

    def _model(self, name: str) -> Any:
        return self._models.get(name)

    def _load(self, name: str) -> Any:
        if name in ("sp5", "sp68"):
            cached = cached_file(self._path(name), ".npz", _convert_shape_predictor,
                                 folder=self._cache_dir)
            with np.load(cached) as arrays:
                return ShapePredictor(**{key: arrays[key] for key in _SP_ARRAYS})
        if name == "resnet":
            return self._session(cached_file(self._path(name), ".onnx", _convert_network,
                                             folder=self._cache_dir))
        if name == "cnn":
            from .dlib_networks import MMOD_DETECTOR, read_network

            path = self._path(name)
            session = self._session(cached_file(path, ".onnx", _convert_detector,
                                                folder=self._cache_dir))
            return session, read_network(path, MMOD_DETECTOR)
        from .dlib_engine import DlibEngine

        return DlibEngine(self._models_dir)

    def _session(self, path: Path) -> Any:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelPackMissing("onnxruntime is not installed; run: pip install onnxruntime",
                                   details={"pack": DLIB_RESNET_V1.id}) from None
        options = ort.SessionOptions()
        if self._threads is not None:
            options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(path), options, providers=self._providers)

    # -- detection ----------------------------------------------------------

    def detect(self, image: Image, options: DetectOptions | None = None) -> list[Face]:
        options = options or DetectOptions()
        pixels, scale = scaled_for_detection(image.pixels, options.max_side)
        hog = options.detector is not DetectorChoice.CNN and dlib_available()
        found: list[Detection] = []
        if hog:
            found = self._model("detector")._run_hog(pixels, options.upsample)
        if not hog:
            found = self._run_cnn(pixels, options.upsample)
        elif options.detector is DetectorChoice.AUTO and not found and options.fallbacks:
            found = self._run_cnn(pixels, fallback_upsample(pixels, options.upsample))
        return faces_from_detections(image, found, scale,
                                     lambda box: self._shape(image, box, "sp5"))

    def _run_cnn(self, pixels: npt.NDArray[np.uint8],
                 upsample: int) -> list[tuple[Box, float, DetectorKind]]:
        session, network = self._model("cnn")

        def run(tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
            return np.asarray(session.run(None, {"tensor": tensor})[0], dtype=np.float32)

        return [(Box(left=d.rect[0], top=d.rect[1], right=d.rect[2] + 1, bottom=d.rect[3] + 1),
                 d.score, DetectorKind.CNN)
                for d in detect_faces(pixels, upsample, network, run)]

    # -- landmarks and alignment -------------------------------------------

    def _shape(self, image: Image, box: Box, model: str) -> Landmarks:
        predictor: ShapePredictor = self._model(model)
        points = predictor.predict(image.pixels, (box.left, box.top, box.right - 1, box.bottom - 1))
        scheme = LandmarkScheme.FIVE if model == "sp5" else LandmarkScheme.SIXTY_EIGHT
        return Landmarks(scheme=scheme, points=tuple((float(x), float(y)) for x, y in points))

    def landmarks68(self, image: Image, face: Face) -> Landmarks:
        return self._shape(image, face.box, "sp68")

    def align(self, image: Image, face: Face) -> npt.NDArray[np.uint8]:
        return self._chip(image, face, self.pack.chip_padding)

    def _chip(self, image: Image, face: Face, padding: float) -> npt.NDArray[np.uint8]:
        points = [(round(x), round(y)) for x, y in face.landmarks.points]
        details = face_chip_details(points, self.pack.chip_size, padding)
        return extract_chip(image.pixels, details)

    # -- descriptors --------------------------------------------------------

    def describe_chips(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        """The network's unit-length output for each chip, ``(n, 150, 150, 3)`` -> ``(n, 128)``.

        One view per chip, run in batches of ``batch_size``; :meth:`embed` builds
        the pack's views of a face and averages them.
        """
        chips = np.ascontiguousarray(chips, dtype=np.uint8)
        if chips.ndim != 4 or chips.shape[1:] != (self.pack.chip_size, self.pack.chip_size, 3):
            raise InvalidArgument("chips must have shape (n, 150, 150, 3)",
                                  details={"shape": list(chips.shape)})
        if chips.shape[0] == 0:
            return np.zeros((0, self.pack.descriptor_size), dtype=np.float64)
        raw = self._run_network(chips)
        normalised: npt.NDArray[np.float64] = raw / np.linalg.norm(raw, axis=1, keepdims=True)
        return normalised

    def _run_network(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        session = self._model("resnet")
        step = self._batch_size
        parts = [np.asarray(session.run(None, {"chips": batch[i:i + step]})[0])
                 for i in range(0, batch.shape[0], step)]
        return np.concatenate(parts).astype(np.float64)

    def embed(self, image: Image, faces: Sequence[Face]) -> list[Face]:
        if not faces:
            return []
        views: list[npt.NDArray[np.uint8]] = []
        for face in faces:
            for padding in self.pack.view_paddings:
                chip = self._chip(image, face, padding)
                views += [chip, chip[:, ::-1]]
        vectors = average_views(self.describe_chips(np.stack(views)), len(faces))
        return [
            replace(face, descriptor=Descriptor(vector=v, pack=self.pack.id,
                                                pack_version=self.pack.version))
            for face, v in zip(faces, vectors, strict=True)
        ]
