"""Image input that survives the real world.

:func:`load_image` turns a path, bytes or a numpy array into an :class:`Image`:
an 8-bit RGB array, upright (EXIF orientation applied), within set limits on
bytes and pixels. JPEG, PNG, WebP, BMP, GIF (its first frame) and HEIC/HEIF
(phone photos, decoded by pillow-heif) are read. Every failure raises an
:class:`~facegate.errors.ImageError` with a stable code; nothing is ever
written to disk.

The pixel limit is checked from the header, before any pixel is decoded, so a
decompression bomb is refused without allocating it. What one image may cost is
bounded too: a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still covers
the working size (``ImageLimits.working_side``), other formats, decoded in full,
have a lower pixel limit, and every image above the working size is reduced to
it before anything looks for a face. A file that ends before its pixels do, or
a JPEG far shorter than its header's size could ever be (less than one bit per
8x8 block), is refused as truncated instead of being filled with grey.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .errors import (
    ImageEmpty,
    ImageInvalidArray,
    ImageNotFound,
    ImageTooLarge,
    ImageTruncated,
    ImageUndecodable,
    ImageUnsupported,
)

__all__ = ["SUPPORTED_FORMATS", "Image", "ImageLimits", "ImageSource", "load_image"]

#: Formats facegate decodes, as Pillow names them.
SUPPORTED_FORMATS: Final = frozenset({"JPEG", "PNG", "WEBP", "BMP", "MPO", "GIF", "HEIF"})

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | npt.NDArray[np.generic]


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Upper bounds on what :func:`load_image` accepts.

    Args:
        max_bytes: largest encoded input, in bytes (default 25 MiB).
        max_pixels: largest image by its header, width times height (default 40 MP).
        max_full_pixels: largest image of a format that is decoded in full (every
            format but JPEG, which decodes at a reduced scale), by its header (16 MP).
        working_side: the longer side an image is reduced to, when larger, before
            anything looks for a face (2560 pixels).
    """

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_full_pixels: int = 16_000_000
    working_side: int = 2560


@dataclass(frozen=True, slots=True)
class Image:
    """A decoded image: ``pixels`` is an upright ``(height, width, 3)`` uint8 RGB array,
    always C-contiguous.

    A strided view (a crop, or a video frame whose rows are padded for alignment) is
    copied once here: native code (dlib's detector) reads the buffer as packed rows,
    and given such a view it found a face on the first call and none on later ones.
    """

    pixels: npt.NDArray[np.uint8] = field(repr=False)
    source_format: str

    def __post_init__(self) -> None:
        if not self.pixels.flags.c_contiguous:
            object.__setattr__(self, "pixels", np.ascontiguousarray(self.pixels))

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def load_image(source: ImageSource | Image, *, limits: ImageLimits | None = None) -> Image:
    """Decode an image from a path, encoded bytes or a numpy array.

    Args:
        source: a file path, the bytes of a JPEG/PNG/WebP/BMP/GIF/HEIC file, or an array
            of shape (H, W), (H, W, 3) or (H, W, 4) in uint8 or uint16.
        limits: size limits; defaults to :class:`ImageLimits()`.

    Returns:
        An upright 8-bit RGB :class:`Image`.

    Raises:
        ImageNotFound: the path does not exist.
        ImageEmpty: zero bytes, or an array with no pixels.
        ImageTooLarge: over ``limits.max_bytes`` or ``limits.max_pixels``.
        ImageUnsupported: a real image in a format facegate does not accept.
        ImageUndecodable: not an image, or truncated or corrupt.
        ImageInvalidArray: an array of the wrong shape or dtype.
    """
    limits = limits or ImageLimits()
    if isinstance(source, Image):
        return source
    if isinstance(source, np.ndarray):
        return _within(_from_array(source, limits), limits)
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_bytes(bytes(source), limits)
    if isinstance(source, str | os.PathLike):
        return _from_bytes(_read_file(Path(source), limits), limits)
    raise ImageInvalidArray(
        f"cannot read an image from a {type(source).__name__}",
        details={"type": type(source).__name__},
    )


def _read_file(path: Path, limits: ImageLimits) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ImageUndecodable(f"{path} is not a file", details={"path": str(path)})
        if size > limits.max_bytes:
            raise _too_large_bytes(size, limits)
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageNotFound(f"no such file: {path}", details={"path": str(path)}) from None
    except PermissionError:
        raise ImageUndecodable(f"cannot read {path}: permission denied") from None
    except IsADirectoryError:
        raise ImageUndecodable(f"{path} is a directory", details={"path": str(path)}) from None


def _too_large_bytes(size: int, limits: ImageLimits) -> ImageTooLarge:
    return ImageTooLarge(
        f"image is {size} bytes, over the limit of {limits.max_bytes}",
        details={"limit": "bytes", "size": size, "max": limits.max_bytes},
    )


@functools.cache
def _register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (pillow-heif), once, on first decode."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a dependency; HEIC is then unrecognised
        return
    register_heif_opener()


def _from_bytes(data: bytes, limits: ImageLimits) -> Image:
    _register_heif()
    if not data:
        raise ImageEmpty("image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise _too_large_bytes(len(data), limits)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's bomb warning would turn into
            # an exception under strict warning filters.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            im = PILImage.open(io.BytesIO(data), formats=None)
    except UnidentifiedImageError:
        raise ImageUndecodable("not a recognised image format") from None
    except PILImage.DecompressionBombError:
        raise ImageTooLarge("image dimensions exceed the pixel limit",
                            details={"limit": "pixels", "max": limits.max_pixels}) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageUndecodable(f"image header is corrupt: {exc}") from None
    fmt = (im.format or "").upper()
    if fmt not in SUPPORTED_FORMATS:
        raise ImageUnsupported(
            f"{fmt or 'unknown'} images are not supported "
            "(use JPEG, PNG, WebP, BMP, GIF or HEIC)",
            details={"format": fmt},
        )
    width, height = im.size
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} pixels, over the limit of {limits.max_pixels}",
            details={"limit": "pixels", "width": width, "height": height,
                     "max": limits.max_pixels},
        )
    if width == 0 or height == 0:
        raise ImageEmpty("image has no pixels")
    _bound_decoding(im, fmt, len(data), limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # an animation: its first frame only
            im.load()
            upright = ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, EOFError, PILImage.DecompressionBombError) as exc:
        if "truncated" in str(exc).lower():
            raise ImageTruncated(f"image data is truncated: {exc}") from None
        raise ImageUndecodable(f"image data is truncated or corrupt: {exc}") from None
    return Image(pixels=_to_rgb8(_reduced(upright, limits.working_side)), source_format=fmt)


def _bound_decoding(im: PILImage.Image, fmt: str, size: int, limits: ImageLimits) -> None:
    """Bound what decoding ``im`` may cost, before any pixel is decoded.

    A JPEG of ``size`` bytes holds at least one bit per 8x8 block of its first
    component (Huffman coding spends a code on every block), so a shorter one is
    truncated; it is decoded at the smallest scale that still covers the working
    size. Any other format decodes every pixel: its header must stay within
    ``max_full_pixels``.

    Raises:
        ImageTruncated: a JPEG too short for its header's size.
        ImageTooLarge: a format decoded in full, over ``max_full_pixels``.
    """
    width, height = im.size
    if fmt in ("JPEG", "MPO"):
        blocks = -(-width // 8) * -(-height // 8)
        if size * 8 < blocks:
            raise ImageTruncated(
                f"a {width}x{height} JPEG cannot fit in {size} bytes: the file is truncated",
                details={"width": width, "height": height, "bytes": size})
        longest, side = max(width, height), limits.working_side
        if longest > side:
            im.draft(im.mode, (max(1, width * side // longest), max(1, height * side // longest)))
    elif width * height > limits.max_full_pixels:
        raise ImageTooLarge(
            f"a {fmt} image of {width}x{height} pixels is over the limit of "
            f"{limits.max_full_pixels} for formats decoded in full",
            details={"limit": "pixels", "width": width, "height": height,
                     "max": limits.max_full_pixels})


def _reduced(im: PILImage.Image, side: int) -> PILImage.Image:
    """``im`` with its longer side at most ``side`` (the working size)."""
    longest = max(im.size)
    if longest <= side:
        return im
    size = (max(1, round(im.width * side / longest)), max(1, round(im.height * side / longest)))
    return im.resize(size, PILImage.Resampling.BILINEAR, reducing_gap=2.0)


def _within(image: Image, limits: ImageLimits) -> Image:
    """An array image reduced to the working size, when larger."""
    if max(image.width, image.height) <= limits.working_side:
        return image
    small = _reduced(PILImage.fromarray(image.pixels), limits.working_side)
    return Image(pixels=np.asarray(small, dtype=np.uint8), source_format=image.source_format)


def _to_rgb8(im: PILImage.Image) -> npt.NDArray[np.uint8]:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.uint32)
        peak = 65535 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255
        grey = (arr * 255 // peak).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = PILImage.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _from_array(arr: npt.NDArray[np.generic], limits: ImageLimits) -> Image:
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageInvalidArray(
            f"array of shape {arr.shape} is not an image (expected HxW, HxWx3 or HxWx4)",
            details={"shape": list(arr.shape)},
        )
    if arr.size == 0:
        raise ImageEmpty("array has no pixels")
    height, width = int(arr.shape[0]), int(arr.shape[1])
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} pixels, over the limit of {limits.max_pixels}",
            details={"limit": "pixels", "width": width, "height": height,
                     "max": limits.max_pixels},
        )
    if arr.dtype == np.uint8:
        img8 = arr.astype(np.uint8, copy=False)
    elif arr.dtype == np.uint16:
        img8 = (arr.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    else:
        raise ImageInvalidArray(
            f"array dtype {arr.dtype} is not supported (use uint8 or uint16)",
            details={"dtype": str(arr.dtype)},
        )
    if img8.ndim == 2:
        img8 = img8[:, :, None]
    if img8.shape[2] == 1:
        img8 = np.repeat(img8, 3, axis=2)
    elif img8.shape[2] == 4:
        alpha = img8[:, :, 3:4].astype(np.uint16)
        img8 = ((img8[:, :, :3] * alpha + 255 * (255 - alpha)) // 255).astype(np.uint8)
    return Image(pixels=np.ascontiguousarray(img8), source_format="ARRAY")
