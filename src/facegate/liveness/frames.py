"""A frame of a liveness answer: a value type that runs no model."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image as PILImage

from ..images import Image, ImageSource

__all__ = ["MAX_FRAMES", "Frame"]

#: The most frames an answer may have (``LivenessSettings.max_frames`` by default).
MAX_FRAMES: Final = 90


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of an answer: seconds since the answer's start, and the image."""

    at: float
    image: ImageSource | Image

    def declared_pixels(self) -> int:
        """Width times height as the frame declares it, read from an encoded frame's
        header without decoding it (0 when the header cannot be read: decoding then
        refuses the frame)."""
        source = self.image
        if isinstance(source, Image):
            return source.width * source.height
        if isinstance(source, np.ndarray):
            return int(source.shape[0]) * int(source.shape[1]) if source.ndim >= 2 else 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
                if isinstance(source, str | os.PathLike):
                    with PILImage.open(source) as im:
                        width, height = im.size
                else:
                    width, height = PILImage.open(io.BytesIO(bytes(source))).size
        except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
            return 0
        return int(width) * int(height)
