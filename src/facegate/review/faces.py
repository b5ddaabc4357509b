"""What a reviewer is shown of a case's faces: JPEG made in memory, never on disk.

The probe image is kept sealed as PNG (:mod:`facegate.review.store`); a reviewer
sees only the face the case is about, cut out with a margin around its box and
encoded as JPEG in a memory buffer. The candidate's retained reference image is
shown likewise, shrunk to the same size. Nothing here touches a file or decides
who may see what (:func:`facegate.review.models.check_view` does).
"""

from __future__ import annotations

import io

from PIL import Image as PILImage

__all__ = ["MARGIN", "SIDE", "face_crop", "shown_jpeg"]

#: The margin kept around a face box, as a share of the box's larger side.
MARGIN = 0.35
#: The longest side of an image a reviewer is shown, in pixels.
SIDE = 480
_QUALITY = 90


def _jpeg(image: PILImage.Image) -> bytes:
    image.thumbnail((SIDE, SIDE), PILImage.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=_QUALITY)
    return buffer.getvalue()


def face_crop(png: bytes, box: tuple[int, int, int, int] | None) -> bytes:
    """The face at ``box`` (left, top, right, bottom) of the PNG ``png``, with a margin of
    :data:`MARGIN` on each side (within the image), as JPEG; the whole image when
    ``box`` is ``None``."""
    with PILImage.open(io.BytesIO(png)) as image:
        image.load()
        if box is None:
            return _jpeg(image)
        left, top, right, bottom = box
        pad = round(MARGIN * max(right - left, bottom - top))
        width, height = image.size
        area = (max(0, left - pad), max(0, top - pad), min(width, right + pad),
                min(height, bottom + pad))
        if area[2] <= area[0] or area[3] <= area[1]:
            return _jpeg(image)
        return _jpeg(image.crop(area))


def shown_jpeg(png: bytes) -> bytes:
    """The PNG ``png`` as JPEG, its longest side at most :data:`SIDE` pixels."""
    with PILImage.open(io.BytesIO(png)) as image:
        image.load()
        return _jpeg(image)
