"""What one image may cost is bounded before anything looks for a face.

Requests that are cheap to send and were slow to serve: a 629-byte JPEG whose header
says 6000x6000 (Pillow filled the missing data with grey and the service spent 16-19 s
on it), a 116 KB PNG of 6300x6300 (17.6 s). Now a truncated file is refused as
``image.truncated``, a format decoded in full has a lower pixel limit, a JPEG is decoded
at a reduced scale, and every image is reduced to the working size. What each costs,
bounded against a full decode, is measured by ``bench/image_cost.py`` (no timings here).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from facegate.errors import ImageTooLarge, ImageTruncated
from facegate.images import ImageLimits, load_image

WORKING = ImageLimits().working_side


def _encode(im: PILImage.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def trick_jpeg() -> bytes:
    """About 629 bytes: the headers of a 6000x6000 JPEG, a sliver of its scan, its end."""
    full = _encode(PILImage.new("RGB", (6000, 6000), (128, 128, 128)), "JPEG", quality=75)
    scan = full.index(b"\xff\xda")
    return full[:scan + 18] + b"\xff\xd9"


def trick_png() -> bytes:
    """About 116 KB: a 6300x6300 black PNG (deflate packs the zeros 1000 to 1)."""
    return _encode(PILImage.new("RGB", (6300, 6300)), "PNG")


def _noise(width: int, height: int) -> PILImage.Image:
    rng = np.random.default_rng(18)
    return PILImage.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(("trick", "error", "code"), [
    (trick_jpeg, ImageTruncated, "image.truncated"),
    (trick_png, ImageTooLarge, "image.too_large"),
])
def test_the_decompression_tricks_are_refused_before_decoding(
        trick: object, error: type[Exception], code: str) -> None:
    data = trick()  # type: ignore[operator]
    assert len(data) < 130_000
    with pytest.raises(error) as info:
        load_image(data)
    assert getattr(info.value, "code", None) == code


def test_a_large_jpeg_is_decoded_at_a_reduced_scale() -> None:
    data = _encode(_noise(6000, 4000), "JPEG", quality=90)
    image = load_image(data)
    assert (image.width, image.height) == (WORKING, round(4000 * WORKING / 6000))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_file_cut_short_is_refused_as_truncated(fmt: str) -> None:
    data = _encode(_noise(600, 400), fmt)
    with pytest.raises(ImageTruncated) as info:
        load_image(data[: len(data) * 2 // 3])
    assert info.value.code == "image.truncated"


def test_images_above_the_working_size_are_reduced_whatever_their_source() -> None:
    gradient = np.linspace(0, 255, 5000, dtype=np.uint8)[None, :, None].repeat(3000, 0)
    png = load_image(_encode(PILImage.fromarray(gradient.repeat(3, 2)), "PNG"))
    array = load_image(np.zeros((3000, 4000, 3), dtype=np.uint8))
    assert (png.width, png.height) == (WORKING, 1536)
    assert (array.width, array.height) == (WORKING, 1920)
    small = load_image(_encode(_noise(640, 480), "PNG"))
    assert (small.width, small.height) == (640, 480)  # below the working size: untouched


def test_formats_decoded_in_full_have_the_lower_pixel_limit() -> None:
    with pytest.raises(ImageTooLarge) as info:
        load_image(_encode(PILImage.new("RGB", (4100, 4000)), "PNG"))
    assert info.value.details["max"] == ImageLimits().max_full_pixels
    jpeg = load_image(_encode(PILImage.new("RGB", (4100, 4000)), "JPEG"))
    assert max(jpeg.width, jpeg.height) == WORKING  # JPEG decodes at a reduced scale
