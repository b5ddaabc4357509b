"""Image input: formats, conversions, orientation, and every bad-input case with its code."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from facegate.errors import (
    ImageEmpty,
    ImageInvalidArray,
    ImageNotFound,
    ImageTooLarge,
    ImageUndecodable,
    ImageUnsupported,
)
from facegate.images import ImageLimits, load_image


def _encode(im: PILImage.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _gradient(width: int = 64, height: int = 48) -> PILImage.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, axis=0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, axis=1)
    return PILImage.fromarray(np.stack([x, y, 255 - x], axis=2))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_supported_formats_decode_to_rgb8(fmt: str) -> None:
    image = load_image(_encode(_gradient(), fmt))
    assert image.pixels.shape == (48, 64, 3)
    assert image.pixels.dtype == np.uint8
    assert image.source_format == fmt


def test_path_bytes_and_array_give_the_same_pixels(tmp_path: Path) -> None:
    data = _encode(_gradient(), "PNG")
    path = tmp_path / "g.png"
    path.write_bytes(data)
    from_path = load_image(path)
    from_str = load_image(str(path))
    from_bytes = load_image(data)
    from_array = load_image(np.asarray(_gradient()))
    for other in (from_str, from_bytes, from_array):
        assert np.array_equal(from_path.pixels, other.pixels)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA", "1", "CMYK"])
def test_colour_modes_convert_to_rgb(mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    image = load_image(_encode(_gradient().convert(mode), fmt))
    assert image.pixels.shape == (48, 64, 3)


def test_transparent_pixels_become_white() -> None:
    rgba = PILImage.new("RGBA", (8, 8), (10, 20, 30, 0))
    assert load_image(_encode(rgba, "PNG")).pixels[0, 0].tolist() == [255, 255, 255]


def test_sixteen_bit_png_scales_to_eight_bits() -> None:
    arr = np.full((10, 12), 65535, dtype=np.uint16)
    arr[0, 0] = 0
    im = PILImage.fromarray(arr)
    image = load_image(_encode(im, "PNG"))
    assert image.pixels[1, 1].tolist() == [255, 255, 255]
    assert image.pixels[0, 0].tolist() == [0, 0, 0]


def test_arrays_of_every_supported_layout() -> None:
    grey = np.full((5, 6), 7, dtype=np.uint8)
    assert load_image(grey).pixels.shape == (5, 6, 3)
    assert load_image(grey[:, :, None]).pixels.shape == (5, 6, 3)
    rgba = np.zeros((5, 6, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    assert load_image(rgba).pixels[0, 0].tolist() == [0, 0, 0]
    assert load_image(np.full((5, 6, 3), 65535, dtype=np.uint16)).pixels.max() == 255


def test_exif_orientation_is_applied() -> None:
    im = _gradient(64, 48)
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = load_image(_encode(im, "JPEG", exif=exif))
    assert image.pixels.shape == (64, 48, 3)


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(ImageEmpty) as info:
        load_image(b"")
    assert info.value.code == "image.empty"


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageEmpty):
        load_image(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFound) as info:
        load_image(tmp_path / "nope.jpg")
    assert info.value.code == "image.not_found"


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageUndecodable):
        load_image(tmp_path)


def test_text_is_undecodable() -> None:
    with pytest.raises(ImageUndecodable) as info:
        load_image(b"name,score\nalice,3\n")
    assert info.value.code == "image.undecodable"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_undecodable(fmt: str) -> None:
    data = _encode(_gradient(256, 256), fmt)
    with pytest.raises(ImageUndecodable):
        load_image(data[: len(data) // 2])


def test_corrupt_header_is_undecodable() -> None:
    data = bytearray(_encode(_gradient(), "PNG"))
    data[16:24] = b"\xff" * 8  # width and height in IHDR
    with pytest.raises((ImageUndecodable, ImageTooLarge)):
        load_image(bytes(data))


def test_unsupported_format_is_refused() -> None:
    with pytest.raises(ImageUnsupported) as info:
        load_image(_encode(_gradient(), "TIFF"))
    assert info.value.code == "image.unsupported_format"
    assert info.value.details["format"] == "TIFF"


def test_too_many_bytes_is_refused_before_decoding() -> None:
    data = _encode(_gradient(), "PNG")
    with pytest.raises(ImageTooLarge) as info:
        load_image(data, limits=ImageLimits(max_bytes=len(data) - 1))
    assert info.value.code == "image.too_large"
    assert info.value.details["limit"] == "bytes"


def test_too_many_pixels_is_refused() -> None:
    with pytest.raises(ImageTooLarge) as info:
        load_image(_encode(_gradient(100, 100), "PNG"), limits=ImageLimits(max_pixels=9_999))
    assert info.value.details["limit"] == "pixels"


def test_oversized_array_is_refused() -> None:
    with pytest.raises(ImageTooLarge):
        load_image(np.zeros((101, 100), dtype=np.uint8), limits=ImageLimits(max_pixels=10_000))


@pytest.mark.parametrize("arr", [
    np.zeros((4, 4, 2), dtype=np.uint8),
    np.zeros((4,), dtype=np.uint8),
    np.zeros((4, 4, 3), dtype=np.float32),
    np.zeros((2, 4, 4, 3), dtype=np.uint8),
])
def test_invalid_arrays_are_refused(arr: np.ndarray) -> None:
    with pytest.raises(ImageInvalidArray) as info:
        load_image(arr)
    assert info.value.code == "image.invalid_array"


def test_array_without_pixels_is_empty() -> None:
    with pytest.raises(ImageEmpty):
        load_image(np.zeros((0, 5, 3), dtype=np.uint8))


def test_unknown_source_type_is_refused() -> None:
    with pytest.raises(ImageInvalidArray):
        load_image(42)  # type: ignore[arg-type]


def _bomb_png(side: int) -> bytes:
    """A 1-bit PNG of side x side black pixels: a few KiB that would decode to gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    raw = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw)
            + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_without_allocating_it(tmp_path: Path) -> None:
    # 60,000 x 60,000 pixels: 10.8 GB as RGB once decoded; a few MiB on disk.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_bomb_png(60_000))
    assert bomb.stat().st_size < 8 * 1024 * 1024
    # Decode in a fresh interpreter whose address space is capped at 2 GiB: decoding the
    # bomb (3.6 GB even as 1-bit pixels, one byte each) would fail there with MemoryError.
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from facegate.errors import ImageTooLarge
        from facegate.images import load_image
        try:
            load_image({str(bomb)!r})
        except ImageTooLarge as exc:
            print(exc.code, exc.details["limit"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "image.too_large pixels"


def test_bomb_under_the_pillow_limit_is_refused_by_ours() -> None:
    # 8,000 x 8,000 = 64 MP: under Pillow's own bomb limit, over facegate's 40 MP.
    with pytest.raises(ImageTooLarge) as info:
        load_image(_bomb_png(8_000))
    assert info.value.details == {"limit": "pixels", "width": 8000, "height": 8000,
                                  "max": 40_000_000}


# -- GIF (first frame) and HEIC/HEIF (pillow-heif), within the same limits ----------------


def _animation() -> bytes:
    red = PILImage.new("RGB", (40, 30), (255, 0, 0))
    blue = PILImage.new("RGB", (40, 30), (0, 0, 255))
    return _encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)


def test_gif_decodes_its_first_frame() -> None:
    image = load_image(_animation())
    assert image.source_format == "GIF"
    assert image.pixels.shape == (30, 40, 3)
    red, green, blue = (int(c) for c in image.pixels[15, 20])
    assert red > 200 and green < 50 and blue < 50  # the first frame, not the second


def test_gif_keeps_the_byte_and_pixel_limits() -> None:
    data = _animation()
    with pytest.raises(ImageTooLarge) as info:
        load_image(data, limits=ImageLimits(max_bytes=len(data) - 1))
    assert info.value.details["limit"] == "bytes"
    with pytest.raises(ImageTooLarge) as info:
        load_image(data, limits=ImageLimits(max_pixels=40 * 30 - 1))
    assert info.value.details["limit"] == "pixels"


def _heic(im: PILImage.Image) -> bytes:
    from pillow_heif import from_pillow

    buf = io.BytesIO()
    from_pillow(im).save(buf, quality=90)
    return buf.getvalue()


def test_heic_decodes_to_rgb8() -> None:
    data = _heic(_gradient())
    assert data[4:12] in (b"ftypheic", b"ftypmif1", b"ftypheix")
    image = load_image(data)
    assert image.source_format == "HEIF"
    assert image.pixels.shape == (48, 64, 3)
    # lossy, but the gradient survives: red rises left to right, green top to bottom
    assert image.pixels[24, 60, 0] > image.pixels[24, 4, 0] + 150
    assert image.pixels[44, 32, 1] > image.pixels[4, 32, 1] + 150


def test_heic_keeps_the_byte_and_pixel_limits(tmp_path: Path) -> None:
    data = _heic(_gradient(100, 100))
    path = tmp_path / "photo.heic"
    path.write_bytes(data)
    with pytest.raises(ImageTooLarge) as info:
        load_image(path, limits=ImageLimits(max_bytes=len(data) - 1))
    assert info.value.details["limit"] == "bytes"
    with pytest.raises(ImageTooLarge) as info:
        load_image(path, limits=ImageLimits(max_pixels=9_999))
    assert info.value.details["limit"] == "pixels"


def test_truncated_heic_is_undecodable() -> None:
    data = _heic(_gradient(100, 100))
    with pytest.raises(ImageUndecodable) as info:
        load_image(data[: len(data) // 2])
    assert info.value.code == "image.undecodable"
