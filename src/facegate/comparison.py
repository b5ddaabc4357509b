"""Comparing two descriptors: a distance, a similarity and a decision.

Descriptors are unit-length vectors, so:

* ``distance`` is the Euclidean distance, from 0 (identical) to 2 (opposite);
* ``similarity`` is the cosine similarity, ``1 - distance**2 / 2``, from -1 to 1,
  and orders pairs exactly as the distance does;
* the decision is ``same_person = distance <= threshold``, where ``threshold``
  is a named setting: the pack's calibrated default unless the caller sets one.

A similarity is not a probability. What a threshold means is the false-match
and false-non-match rate measured at it on a named data set; see
``docs/accuracy.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine.faces import Descriptor
from .engine.packs import get_pack
from .errors import DescriptorMismatch, InvalidArgument

__all__ = ["Comparison", "compare_descriptors", "descriptor_distance"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing two faces."""

    distance: float
    similarity: float
    threshold: float
    same_person: bool
    pack: str

    def as_dict(self) -> dict[str, object]:
        return {"same_person": self.same_person, "distance": round(self.distance, 4),
                "similarity": round(self.similarity, 4), "threshold": self.threshold,
                "pack": self.pack}


def descriptor_distance(a: Descriptor, b: Descriptor) -> float:
    """Euclidean distance between two descriptors of the same pack.

    Raises:
        DescriptorMismatch: the descriptors come from different packs or versions.
    """
    if (a.pack, a.pack_version) != (b.pack, b.pack_version) or a.size != b.size:
        raise DescriptorMismatch(
            f"cannot compare a {a.pack} {a.pack_version} descriptor with a "
            f"{b.pack} {b.pack_version} one",
            details={"a": f"{a.pack}@{a.pack_version}", "b": f"{b.pack}@{b.pack_version}"},
        )
    diff = a.vector.astype(np.float64) - b.vector.astype(np.float64)
    return float(np.sqrt(diff @ diff))


def compare_descriptors(a: Descriptor, b: Descriptor, *,
                        threshold: float | None = None) -> Comparison:
    """Compare two descriptors and decide whether they show the same person.

    Args:
        a: first descriptor.
        b: second descriptor, of the same pack.
        threshold: decision distance; the pack's ``default_threshold`` if omitted.

    Returns:
        The :class:`Comparison` with distance, similarity, threshold and decision.

    Raises:
        DescriptorMismatch: the descriptors come from different packs.
        InvalidArgument: the threshold is outside (0, 2).
    """
    distance = descriptor_distance(a, b)
    limit = get_pack(a.pack).default_threshold if threshold is None else threshold
    if not 0.0 < limit < 2.0:
        raise InvalidArgument("threshold must lie between 0 and 2",
                              details={"threshold": limit})
    return Comparison(distance=distance, similarity=1.0 - distance * distance / 2.0,
                      threshold=limit, same_person=distance <= limit, pack=a.pack)
