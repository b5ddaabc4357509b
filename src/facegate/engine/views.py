"""Averaging a face's views into one descriptor.

A pack's descriptor is the mean of the network's outputs for several views of
the same face: the aligned chip at each of the pack's ``view_paddings``, each
with its mirror image. Each output is scaled to unit length, the views are
averaged, and the mean is scaled to unit length again. Every engine builds the
views in the same order (for each padding in order, the chip then its mirror image) and reduces them
with :func:`average_views`, so their descriptors agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .packs import ModelPack

__all__ = ["average_views", "views_per_face"]


def views_per_face(pack: ModelPack) -> int:
    """How many network outputs make one descriptor: each padding, and its mirror image."""
    return 2 * len(pack.view_paddings)


def average_views(raw: npt.NDArray[np.float64], faces: int) -> npt.NDArray[np.float32]:
    """One unit descriptor per face from its views; ``raw`` rows are grouped by face, in order.

    Args:
        raw: network outputs, shape ``(faces * views, size)``.
        faces: how many faces the rows belong to.

    Returns:
        Shape ``(faces, size)``, float32, each row of unit length.
    """
    views = raw.reshape(faces, -1, raw.shape[-1]).astype(np.float64)
    views = views / np.linalg.norm(views, axis=2, keepdims=True)
    mean = views.mean(axis=1)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = mean.astype(np.float32)
    return out
