"""The faceplugin pack's own front end: its face detector and 68-point landmark model.

The pack ``faceplugin-arcface-v1`` (npm ``faceplugin-face-recognition-js``
0.0.1, MIT) ships two front-end models besides its descriptor network. The
vendor's JavaScript (``lib/fr_detect.js``, ``lib/fr_landmark.js``) is the
reference for how they are fed; this is an independent numpy implementation.

``fr_detect.onnx`` (:class:`FacepluginDetector`)
    An SSD-style detector with the anchor layout of the "Ultra-Light-Fast"
    320x240 detector. Input ``input``: float32 ``1x3x240x320``, the whole
    image resized (bilinear, aspect ratio not kept) to 320x240, RGB, each
    channel ``(x - 127) / 128``. Outputs: ``scores`` ``[1, 4420, 2]``
    (softmax already applied; column 1 is "face") and ``boxes``
    ``[1, 4420, 4]``. The 4,420 anchors are those of :func:`prior_boxes`
    (minimum sizes ``[[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]]``
    pixels on feature maps of strides ``[8, 16, 32, 64]``). The graph already
    decodes the box regressions against those anchors (variances 0.1 and 0.2,
    the anchors are constants in the graph) and returns corner boxes
    ``(x1, y1, x2, y2)`` as fractions of the image width and height, so no
    further decoding is applied. (The vendor's
    JavaScript computes a second decoding but then discards it and uses the
    raw ``boxes`` output, exactly as here.) Faces are kept at score >= 0.65,
    the 750 best go to non-maximum suppression at 0.4, and each kept box is
    made square around its centre with the side equal to its height, then
    clipped to the image.

``fr_landmark.onnx`` (:class:`FacepluginLandmarker`)
    Input ``input``: float32 ``1x1x64x64``, the face box cut from the image
    (no margin), resized (bilinear) to 64x64, converted to grey
    (ITU-R 601 luma) and divided by 256. Output ``output``: ``[1, 136]``,
    the 68 iBUG points as interleaved ``x, y`` fractions of the crop's width
    and height.

Deviations from the vendor's JavaScript, all deliberate:

* Non-maximum suppression is the standard one: boxes in descending score
  order, a box is dropped when its intersection over union with a kept box
  exceeds 0.4. The JavaScript visits boxes in order of their bottom edge, not
  their score, so of two overlapping boxes it keeps the one that ends higher
  even when it scores lower, and it divides the intersection (with a +1 pixel
  convention) by the area of the box being tested only.
* Canvas pixels in the browser are RGBA, and the JavaScript's
  ``COLOR_BGR2RGB`` / ``COLOR_BGR2GRAY`` on them swaps red and blue; here the
  detector gets true RGB (as the model card states) and the landmark model
  true luma.
* Resizing uses Pillow's bilinear filter, which averages over the source
  pixels when shrinking (OpenCV's ``INTER_LINEAR`` samples four), and box
  corners are rounded to whole pixels (the JavaScript truncates them).

Only these two models of the npm package are used here. Its age, gender and
expression models are never loaded by facegate (R11).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from ..errors import InvalidArgument, ModelPackMissing
from .faces import Box

__all__ = [
    "DETECT_CONFIDENCE",
    "DETECT_NMS",
    "FacepluginDetector",
    "FacepluginLandmarker",
    "nms",
    "prior_boxes",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

INPUT_WIDTH: Final = 320
INPUT_HEIGHT: Final = 240
MIN_SIZES: Final = ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))
STEPS: Final = (8, 16, 32, 64)
DETECT_CONFIDENCE: Final = 0.65
DETECT_NMS: Final = 0.4
TOP_K: Final = 750
LANDMARK_SIZE: Final = 64


def prior_boxes(width: int = INPUT_WIDTH, height: int = INPUT_HEIGHT) -> F32:
    """The detector's anchors ``(cx, cy, w, h)`` as fractions of the input, ``(n, 4)``.

    Ordered as the network's outputs: per stride, row by row, column by
    column, then by minimum size; for 320x240 there are 4,420. These are the
    anchors baked into ``fr_detect.onnx`` (the tests compare them with the
    graph's constants): a feature map of ``ceil(size / stride)`` cells has
    its centres at ``(i + 0.5) / cells``, and sizes are clipped to 1. The
    vendor's ``definePriorBox`` places centres at ``(i + 0.5) * stride /
    size`` instead, which differs vertically for strides 32 and 64 (240 is
    not a multiple of them); it does not matter there, since the JavaScript
    discards its own decoding.
    """
    parts = []
    for step, sizes in zip(STEPS, MIN_SIZES, strict=True):
        cols, rows = -(-width // step), -(-height // step)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) / rows, (np.arange(cols) + 0.5) / cols,
                             indexing="ij")
        s = np.asarray(sizes, dtype=np.float64)
        block = np.empty((rows, cols, len(sizes), 4))
        block[..., 0] = cx[..., None]
        block[..., 1] = cy[..., None]
        block[..., 2] = np.minimum(s / width, 1.0)
        block[..., 3] = np.minimum(s / height, 1.0)
        parts.append(block.reshape(-1, 4))
    return np.concatenate(parts).astype(np.float32)


def nms(boxes: F64, scores: F64, threshold: float) -> npt.NDArray[np.intp]:
    """Indices of the boxes kept by greedy IoU suppression, best score first.

    ``boxes`` are corner boxes ``(x1, y1, x2, y2)``; a box is suppressed when
    its IoU with an already kept box is above ``threshold``.
    """
    order = np.argsort(-scores, kind="stable")
    if order.size == 0:
        return order
    b = boxes[order]
    area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    x1 = np.maximum(b[:, None, 0], b[None, :, 0])
    y1 = np.maximum(b[:, None, 1], b[None, :, 1])
    x2 = np.minimum(b[:, None, 2], b[None, :, 2])
    y2 = np.minimum(b[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = area[:, None] + area[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    alive = np.ones(order.size, dtype=bool)
    for i in range(order.size):
        if alive[i]:
            alive[i + 1:] &= iou[i, i + 1:] <= threshold
    kept: npt.NDArray[np.intp] = order[alive]
    return kept


def _rgb(pixels: npt.NDArray[Any]) -> U8:
    """``pixels`` as an HxWx3 uint8 RGB array; grey is repeated, alpha dropped."""
    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise InvalidArgument("pixels must be uint8", details={"dtype": str(array.dtype)})
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if array.ndim != 3 or array.shape[2] != 3:
        raise InvalidArgument("pixels must be HxW, HxWx3 or HxWx4",
                              details={"shape": list(array.shape)})
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidArgument("pixels must not be empty", details={"shape": list(array.shape)})
    return np.ascontiguousarray(array)


def _resize(pixels: U8, width: int, height: int) -> U8:
    image = PILImage.fromarray(pixels)
    return np.asarray(image.resize((width, height), PILImage.Resampling.BILINEAR),
                      dtype=np.uint8)


class _Session:
    """An ONNX Runtime session made on first use."""

    def __init__(self, path: Path, threads: int | None) -> None:
        if threads is not None and threads < 1:
            raise InvalidArgument("threads must be at least 1", details={"threads": threads})
        self.path = Path(path)
        self._threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._open()
        return self._session

    def _open(self) -> Any:
        if not self.path.is_file():
            raise ModelPackMissing(f"model file not found: {self.path}",
                                   details={"path": str(self.path)})
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelPackMissing("onnxruntime is not installed; run: pip install onnxruntime",
                                   details={"path": str(self.path)}) from None
        options = ort.SessionOptions()
        if self._threads is not None:
            options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.path), options,
                                    providers=["CPUExecutionProvider"])


class FacepluginDetector:
    """The faceplugin face detector (``fr_detect.onnx``).

    Args:
        model: path of ``fr_detect.onnx``.
        threads: ONNX Runtime intra-op threads; ``None`` lets it choose.
        confidence: lowest face score kept.
        nms_threshold: IoU above which a lower-scored box is suppressed.
    """

    def __init__(self, model: Path, threads: int | None = None, *,
                 confidence: float = DETECT_CONFIDENCE,
                 nms_threshold: float = DETECT_NMS) -> None:
        self._session = _Session(model, threads)
        self.confidence = confidence
        self.nms_threshold = nms_threshold

    def _run(self, tensor: F32) -> tuple[F64, F64]:
        scores, boxes = self._session.get().run(["scores", "boxes"], {"input": tensor})
        s = np.asarray(scores, dtype=np.float64).reshape(-1, 2)[:, 1]
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return s, b

    def detect(self, pixels: npt.NDArray[np.uint8]) -> list[tuple[Box, float]]:
        """Faces in ``pixels`` (uint8 RGB; grey and RGBA accepted), largest first.

        Boxes are square (side = the detected height) unless clipped by the
        image edge, in image pixels with exclusive right and bottom.
        """
        rgb = _rgb(pixels)
        height, width = rgb.shape[:2]
        small = _resize(rgb, INPUT_WIDTH, INPUT_HEIGHT).astype(np.float32)
        tensor = ((small - 127.0) / 128.0).transpose(2, 0, 1)[None]
        scores, boxes = self._run(np.ascontiguousarray(tensor, dtype=np.float32))
        keep = np.flatnonzero(scores >= self.confidence)
        keep = keep[np.argsort(-scores[keep], kind="stable")[:TOP_K]]
        boxes, scores = boxes[keep], scores[keep]
        boxes = boxes * np.array([width, height, width, height], dtype=np.float64)
        kept = nms(boxes, scores, self.nms_threshold)
        found: list[tuple[Box, float]] = []
        for (x1, y1, x2, y2), score in zip(boxes[kept], scores[kept], strict=True):
            side = y2 - y1
            cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
            box = Box(left=max(0, round(cx - side / 2)), top=max(0, round(cy - side / 2)),
                      right=min(width, round(cx + side / 2)),
                      bottom=min(height, round(cy + side / 2)))
            if box.width >= 2 and box.height >= 2:
                found.append((box, float(score)))
        found.sort(key=lambda item: (item[0].area, item[1]), reverse=True)
        return found


class FacepluginLandmarker:
    """The faceplugin 68-point landmark model (``fr_landmark.onnx``).

    Args:
        model: path of ``fr_landmark.onnx``.
        threads: ONNX Runtime intra-op threads; ``None`` lets it choose.
    """

    def __init__(self, model: Path, threads: int | None = None) -> None:
        self._session = _Session(model, threads)

    def predict(self, pixels: npt.NDArray[np.uint8], box: Box) -> F64:
        """The 68 iBUG points ``(68, 2)`` of the face in ``box``, in image pixels.

        ``box`` should come from :class:`FacepluginDetector` (square, no
        margin), which is what the model was made for; it is clipped to the
        image first.
        """
        rgb = _rgb(pixels)
        height, width = rgb.shape[:2]
        left, top = max(0, box.left), max(0, box.top)
        right, bottom = min(width, box.right), min(height, box.bottom)
        if right - left < 1 or bottom - top < 1:
            raise InvalidArgument("box lies outside the image",
                                  details={"box": box.as_dict(), "width": width,
                                           "height": height})
        crop = _resize(np.ascontiguousarray(rgb[top:bottom, left:right]),
                       LANDMARK_SIZE, LANDMARK_SIZE).astype(np.float32)
        grey = crop @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        tensor = (np.rint(grey) / 256.0).astype(np.float32)[None, None]
        out = self._session.get().run(["output"], {"input": tensor})[0]
        points = np.asarray(out, dtype=np.float64).reshape(68, 2)
        scale = np.array([right - left, bottom - top], dtype=np.float64)
        result: F64 = points * scale + np.array([left, top], dtype=np.float64)
        return result
