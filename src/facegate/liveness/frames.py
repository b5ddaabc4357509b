"""A frame of a liveness answer: a value type that runs no model."""

from __future__ import annotations

from dataclasses import dataclass

from ..images import Image, ImageSource

__all__ = ["Frame"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of an answer: seconds since the answer's start, and the image."""

    at: float
    image: ImageSource | Image
