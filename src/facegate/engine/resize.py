"""dlib's bilinear ``resize_image``, reproduced to the float rounding.

dlib resizes float planes and RGB images with a vectorised loop: column
positions advance in float32, four lanes at a time (``x += 4 * x_scale``),
each output value is ``tl*w_tl + tr*w_tr + bl*w_bl + br*w_br`` in float32 with
the weights products of float32 fractions, RGB results are truncated to
``uint8``; the last few columns (where the four-lane step would read past the
row) are done one by one in double. Rows advance in double (``y += y_scale``).
The MMOD detector's boxes depend on these values, so this module follows that
arithmetic exactly; the sampling plan of a given size pair is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["resize_bilinear", "resize_planes"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class _Plan:
    tops: I64
    bottoms: I64
    tb: npt.NDArray[np.float64]          # row fractions (double)
    vec_cols: int                        # columns done four lanes at a time
    left_v: I64
    weights: tuple[F32, F32, F32, F32]   # tl, tr, bl, br weights, (rows, vec_cols) float32
    left_t: I64                          # the scalar tail's columns
    right_t: I64
    lr_t: npt.NDArray[np.float64]


@lru_cache(maxsize=128)
def _plan(in_nr: int, in_nc: int, out_nr: int, out_nc: int) -> _Plan:
    y_scale = (in_nr - 1) / max(out_nr - 1, 1)
    ys = np.full(out_nr, y_scale, dtype=np.float64)
    ys[0] = -y_scale + y_scale
    ys = np.add.accumulate(ys)  # sequential, as dlib's y += y_scale
    tops = np.floor(ys).astype(np.int64)
    tb = ys - tops
    bottoms = np.minimum(tops + 1, in_nr - 1)

    x_scale = (in_nc - 1) / max(out_nc - 1, 1)
    x0 = -4 * x_scale
    blocks = out_nc // 4 + 2
    lanes = np.empty((blocks, 4), dtype=np.float32)
    for j in range(4):
        seq = np.full(blocks + 1, np.float32(4 * x_scale), dtype=np.float32)
        seq[0] = np.float32(x0 + j * x_scale)
        lanes[:, j] = np.add.accumulate(seq, dtype=np.float32)[1:]
    left = lanes.astype(np.int64)  # truncation, as _mm_cvttps_epi32
    stop = np.nonzero(left[:, 3] + 1 >= in_nc)[0]
    used = int(stop[0]) if stop.size else blocks
    vec_cols = min(4 * used, out_nc)
    left_v = left.reshape(-1)[:vec_cols]
    lr = (lanes.reshape(-1)[:vec_cols] - left_v.astype(np.float32)).astype(np.float32)
    inv_lr = (np.float32(1) - lr)[None, :]
    lr = lr[None, :]
    tb32 = tb.astype(np.float32)[:, None]
    inv_tb32 = (1 - tb).astype(np.float32)[:, None]
    weights = (inv_tb32 * inv_lr, inv_tb32 * lr, tb32 * inv_lr, tb32 * lr)

    xs = []
    x = -x_scale + vec_cols * x_scale
    for _ in range(vec_cols, out_nc):
        x += x_scale
        xs.append(x)
    x_tail = np.asarray(xs, dtype=np.float64)
    left_t = np.floor(x_tail).astype(np.int64)
    right_t = np.minimum(left_t + 1, in_nc - 1)
    return _Plan(tops=tops, bottoms=bottoms, tb=tb, vec_cols=vec_cols, left_v=left_v,
                 weights=weights, left_t=left_t, right_t=right_t, lr_t=x_tail - left_t)


def _vector_part(planes: F32, plan: _Plan) -> F32:
    """The four-lane columns of ``planes`` (k, rows, cols), as float32 ``(k, out_nr, vec_cols)``."""
    top = planes[:, plan.tops]
    bottom = planes[:, plan.bottoms]
    w_tl, w_tr, w_bl, w_br = plan.weights
    value = np.take(top, plan.left_v, axis=2)
    value *= w_tl
    part = np.take(top, plan.left_v + 1, axis=2)
    part *= w_tr
    value += part
    part = np.take(bottom, plan.left_v, axis=2)
    part *= w_bl
    value += part
    part = np.take(bottom, plan.left_v + 1, axis=2)
    part *= w_br
    value += part
    return value


def resize_planes(planes: F32, out_nr: int, out_nc: int) -> F32:
    """Resize float32 planes ``(k, rows, cols)`` as dlib resizes a float image."""
    k, in_nr, in_nc = planes.shape
    plan = _plan(in_nr, in_nc, out_nr, out_nc)
    out = np.empty((k, out_nr, out_nc), dtype=np.float32)
    if plan.vec_cols:
        out[:, :, :plan.vec_cols] = _vector_part(planes, plan)
    if len(plan.left_t):
        one = np.float32(1)
        lr = plan.lr_t.astype(np.float32)[None, None, :]
        left, right = planes[:, :, plan.left_t], planes[:, :, plan.right_t]
        top = (one - lr) * left[:, plan.tops] + lr * right[:, plan.tops]
        bot = (one - lr) * left[:, plan.bottoms] + lr * right[:, plan.bottoms]
        tb = plan.tb[None, :, None]
        out[:, :, plan.vec_cols:] = ((1 - tb) * top.astype(np.float64)
                                     + tb * bot.astype(np.float64))
    return out


def resize_bilinear(src: npt.NDArray[np.generic], out_nr: int,
                    out_nc: int) -> npt.NDArray[np.generic]:
    """dlib's ``resize_image`` (bilinear) for a float32 plane or a uint8 RGB image."""
    if src.ndim == 2:
        plane: F32 = resize_planes(np.asarray(src, dtype=np.float32)[None], out_nr, out_nc)[0]
        return plane
    in_nr, in_nc = src.shape[:2]
    plan = _plan(in_nr, in_nc, out_nr, out_nc)
    out = np.empty((out_nr, out_nc, 3), dtype=np.uint8)
    if plan.vec_cols:
        planes = np.ascontiguousarray(src.transpose(2, 0, 1), dtype=np.float32)
        value = _vector_part(planes, plan).astype(np.int32)  # truncation, as dlib
        out[:, :plan.vec_cols] = value.transpose(1, 2, 0)
    if len(plan.left_t):
        lr = plan.lr_t[None, :, None]
        left = src[:, plan.left_t].astype(np.float64)
        right = src[:, plan.right_t].astype(np.float64)
        top = (1 - lr) * left[plan.tops] + lr * right[plan.tops]
        bot = (1 - lr) * left[plan.bottoms] + lr * right[plan.bottoms]
        tb = plan.tb[:, None, None]
        out[:, plan.vec_cols:] = ((1 - tb) * top + tb * bot).astype(np.uint8)
    return out
