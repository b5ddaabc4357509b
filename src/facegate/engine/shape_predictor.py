"""dlib's shape predictors (cascades of regression trees) in numpy.

:func:`read_shape_predictor` reads ``shape_predictor_5_face_landmarks.dat`` or
``shape_predictor_68_face_landmarks.dat``. The file holds, in dlib's integer
encoding (:func:`facegate.engine.dlib_format.decode_int_stream`):

* version ``1``; the initial shape (a float column matrix, x and y interleaved,
  in box-normalised coordinates);
* the forests: per cascade a vector of trees, each tree its splits
  ``(idx1, idx2, threshold)`` in breadth-first order and its leaf vectors;
* per cascade, the anchor landmark of each feature pixel and the offset of
  that pixel from its anchor (in the initial shape's frame).

:meth:`ShapePredictor.predict` follows dlib's ``shape_predictor::operator()``:
each cascade warps its feature pixels with the similarity transform from the
initial shape to the current one, reads their grey level
(``(r + g + b) // 3``, 0 outside the image) at the rounded image position, walks
every tree (left when ``f[idx1] - f[idx2] > threshold``) and adds the leaves,
in float32 and in dlib's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import ModelFormatError
from .dlib_format import decode_int_stream, ints_to_float32

__all__ = ["ShapePredictor", "read_shape_predictor"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class ShapePredictor:
    """A regression-tree cascade; arrays are per cascade, trees of equal depth.

    Attributes:
        initial_shape: (parts, 2) float32, box-normalised.
        split_idx: (cascades, trees, splits, 2) feature indices of each split.
        split_thresh: (cascades, trees, splits) float32 thresholds.
        leaves: (cascades, trees, leaves, parts * 2) float32 shape increments.
        anchors: (cascades, pixels) landmark each feature pixel hangs from.
        deltas: (cascades, pixels, 2) float32 offsets from the anchor.
    """

    initial_shape: F32
    split_idx: I64
    split_thresh: F32
    leaves: F32
    anchors: I64
    deltas: F32

    @property
    def num_parts(self) -> int:
        return int(self.initial_shape.shape[0])

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays by name, for caching with :func:`numpy.savez`."""
        return {name: getattr(self, name) for name in
                ("initial_shape", "split_idx", "split_thresh", "leaves", "anchors", "deltas")}

    def predict(self, pixels: npt.NDArray[np.uint8],
                box: tuple[int, int, int, int]) -> npt.NDArray[np.int64]:
        """Landmarks for the face in ``box`` as (parts, 2) integer image coordinates.

        Args:
            pixels: (height, width, 3) uint8 RGB image.
            box: ``(left, top, right, bottom)`` with right and bottom *inclusive*,
                as in a dlib rectangle.
        """
        left, top, right, bottom = (float(v) for v in box)
        scale = np.array([right - left, bottom - top])
        offset = np.array([left, top])
        height, width = pixels.shape[:2]
        initial = self.initial_shape
        current = initial.copy()
        num_trees, num_splits = self.split_idx.shape[1], self.split_idx.shape[2]
        depth = int(np.log2(num_splits + 1))
        trees = np.arange(num_trees)
        first = current.reshape(1, -1)
        for cascade in range(self.split_idx.shape[0]):
            tform = _similarity(initial, current).astype(np.float32)
            # float32 arithmetic as dlib does it, product by product: tform * delta + anchor.
            # (A BLAS matrix product may fuse or reorder these and move a pixel by one.)
            dx, dy = self.deltas[cascade][:, 0], self.deltas[cascade][:, 1]
            moved = np.stack([tform[0, 0] * dx + tform[0, 1] * dy,
                              tform[1, 0] * dx + tform[1, 1] * dy], axis=1)
            moved += current[self.anchors[cascade]]
            points = np.floor(moved.astype(np.float64) * scale + offset + 0.5).astype(np.int64)
            xs, ys = points[:, 0], points[:, 1]
            inside = (xs >= 0) & (ys >= 0) & (xs < width) & (ys < height)
            values = np.zeros(len(points), dtype=np.float32)
            rgb = pixels[ys[inside], xs[inside]].astype(np.uint32)
            values[inside] = rgb.sum(axis=1) // 3
            # every split of every tree at once; then walk each tree to its leaf
            idx = self.split_idx[cascade]
            go_right = (values[idx[..., 0]] - values[idx[..., 1]]) <= self.split_thresh[cascade]
            node = np.zeros(num_trees, dtype=np.int64)
            for _ in range(depth):
                node = 2 * node + 1 + go_right[trees, node]
            steps = self.leaves[cascade][trees, node - num_splits]
            first = current.reshape(1, -1)
            total = np.cumsum(np.concatenate([first, steps]), axis=0, dtype=np.float32)[-1]
            current = total.reshape(-1, 2)
        final: I64 = np.floor(current.astype(np.float64) * scale + offset + 0.5).astype(np.int64)
        return final


def _similarity(source: F32, target: F32) -> npt.NDArray[np.float64]:
    """The 2x2 linear part of the least-squares similarity transform.

    This is Umeyama's solution, which dlib computes with an SVD; in two
    dimensions it has the closed form ``[[a, -b], [b, a]]`` used here.
    """
    src = source.astype(np.float64)
    dst = target.astype(np.float64)
    src_c = src - src.sum(axis=0) / len(src)
    dst_c = dst - dst.sum(axis=0) / len(dst)
    norm = float(np.vdot(src_c, src_c))
    if norm == 0.0:
        return np.eye(2)
    a = float(np.vdot(src_c, dst_c)) / norm
    b = float(np.vdot(src_c[:, 0], dst_c[:, 1]) - np.vdot(src_c[:, 1], dst_c[:, 0])) / norm
    return np.array([[a, -b], [b, a]])


def read_shape_predictor(path: Path) -> ShapePredictor:
    """Read a dlib shape predictor file.

    Raises:
        ModelFormatError: the file is not a shape predictor with full, equal-depth trees.
    """
    ints = decode_int_stream(path.read_bytes(), name=path.name)
    cur = _Cursor(ints, path.name)
    if cur.take(1)[0] != 1:
        raise cur.fail("unexpected shape predictor version")
    rows, cols = abs(int(cur.take(1)[0])), abs(int(cur.take(1)[0]))
    initial = cur.floats(rows * cols).reshape(-1, 2)
    cascades = int(cur.take(1)[0])
    split_idx, split_thresh, leaves = [], [], []
    for _ in range(cascades):
        count = int(cur.take(1)[0])
        for _ in range(count):
            splits = int(cur.take(1)[0])
            raw = cur.take(4 * splits).reshape(splits, 4)
            split_idx.append(raw[:, :2])
            split_thresh.append(ints_to_float32(raw[:, 2], raw[:, 3]))
            num_leaves = int(cur.take(1)[0])
            if num_leaves != splits + 1:
                raise cur.fail("a regression tree is not full")
            block = cur.take(num_leaves * (2 + 2 * rows)).reshape(num_leaves, -1)
            if np.any(np.abs(block[:, 0]) != rows) or np.any(np.abs(block[:, 1]) != 1):
                raise cur.fail("leaf vectors do not match the shape size")
            values = block[:, 2:].reshape(num_leaves, rows, 2)
            leaves.append(ints_to_float32(values[..., 0], values[..., 1]))
    trees = len(leaves) // cascades
    anchors, deltas = [], []
    if int(cur.take(1)[0]) != cascades:
        raise cur.fail("anchor list does not match the cascades")
    for _ in range(cascades):
        n = int(cur.take(1)[0])
        anchors.append(cur.take(n))
    if int(cur.take(1)[0]) != cascades:
        raise cur.fail("delta list does not match the cascades")
    for _ in range(cascades):
        n = int(cur.take(1)[0])
        deltas.append(cur.floats(2 * n).reshape(n, 2))
    if cur.pos != len(ints):
        raise cur.fail("trailing data after the shape predictor")
    try:
        return ShapePredictor(
            initial_shape=initial,
            split_idx=np.stack(split_idx).reshape(cascades, trees, -1, 2),
            split_thresh=np.stack(split_thresh).reshape(cascades, trees, -1),
            leaves=np.stack(leaves).reshape(cascades, trees, -1, rows),
            anchors=np.stack(anchors),
            deltas=np.stack(deltas),
        )
    except ValueError as exc:
        raise cur.fail(f"trees of unequal size ({exc})") from None


@dataclass
class _Cursor:
    ints: I64
    name: str
    pos: int = 0

    def fail(self, what: str) -> ModelFormatError:
        return ModelFormatError(f"{self.name}: {what}", details={"file": self.name})

    def take(self, count: int) -> I64:
        if self.pos + count > len(self.ints):
            raise self.fail("unexpected end of file")
        chunk = self.ints[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def floats(self, count: int) -> F32:
        pairs = self.take(2 * count).reshape(count, 2)
        return ints_to_float32(pairs[:, 0], pairs[:, 1])
