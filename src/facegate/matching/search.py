"""From index neighbours to candidates: one answer per face, each candidates or no match.

A gallery subject becomes a candidate when its nearest template lies within
the threshold; candidates are ranked by that distance and cut at ``limit``.
The index is asked for more templates than ``limit`` so that a subject with
several templates does not crowd others out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from .index import GalleryIndex, Neighbour

__all__ = ["Hit", "nearest_subjects"]

#: (subject id, distance) within the threshold, nearest first
Hit = tuple[str, float]


def _per_subject(neighbours: Sequence[Neighbour], threshold: float, limit: int) -> list[Hit]:
    best: dict[str, float] = {}
    for n in neighbours:
        if n.distance <= threshold and n.distance < best.get(n.subject_id, np.inf):
            best[n.subject_id] = n.distance
    return sorted(best.items(), key=lambda item: (item[1], item[0]))[:limit]


def nearest_subjects(index: GalleryIndex, probes: np.ndarray, *, threshold: float, limit: int,
                     now: datetime | None) -> list[list[Hit]]:
    """For each probe row, the nearest ``limit`` subjects within ``threshold``."""
    if not len(probes):
        return []
    fetch = min(len(index), max(4 * limit, 16))
    return [_per_subject(found, threshold, limit)
            for found in index.search(probes, fetch, now=now)]
