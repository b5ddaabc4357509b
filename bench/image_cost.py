"""What one image costs before anything looks for a face: bounded loading against a
full decode, on the requests that are cheap to send and were slow to serve.

For each input, in alternating rounds on the same machine:

* ``bounded``: :func:`facegate.images.load_image` (a truncated file is refused as
  ``image.truncated``; a format decoded in full is refused above
  ``ImageLimits.max_full_pixels``; a JPEG is decoded at a reduced scale; every image
  is reduced to the working size), then :meth:`FaceAnalyzer.assess` when it loaded.
* ``full``: Pillow told to accept truncated files (as it was process-wide once
  WeasyPrint had been imported), the whole image decoded, then the same
  :meth:`FaceAnalyzer.assess` on it.

Inputs, made here: a 629-byte JPEG whose header says 6000x6000, a 116 KB black
6300x6300 PNG, and a 6000x4000 JPEG of noise (a real 24 MP photo's size).

Printed: the median time of each side per input, the ratio full / bounded, and
the outcome of the bounded side. Target: each input refused or reduced in under
1 s on the bounded side.

Usage::

    python bench/image_cost.py              # 3 rounds
    python bench/image_cost.py --rounds 5
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFile

from facegate import FaceAnalyzer
from facegate.errors import Error
from facegate.images import Image, load_image


def _encode(im: PILImage.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def trick_jpeg() -> bytes:
    full = _encode(PILImage.new("RGB", (6000, 6000), (128, 128, 128)), "JPEG", quality=75)
    scan = full.index(b"\xff\xda")
    return full[:scan + 18] + b"\xff\xd9"


def trick_png() -> bytes:
    return _encode(PILImage.new("RGB", (6300, 6300)), "PNG")


def large_jpeg() -> bytes:
    rng = np.random.default_rng(18)
    noise = rng.integers(0, 256, (4000, 6000, 3), dtype=np.uint8)
    return _encode(PILImage.fromarray(noise), "JPEG", quality=90)


def vector_units() -> str:
    """The CPU's SIMD extensions, as the kernel lists them."""
    wanted = ("avx512f", "avx512_vnni", "avx2", "fma", "avx", "sse4_2", "neon", "asimd", "sve")
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith(("flags", "Features"))), [])
    except OSError:
        flags = []
    return " ".join(u for u in wanted if u in flags) or "unknown"


def _bounded(analyzer: FaceAnalyzer, data: bytes) -> str:
    try:
        image = load_image(data)
    except Error as exc:
        return exc.code
    reports = analyzer.assess(image)
    return f"reduced to {image.width}x{image.height}, {len(reports)} report(s)"


def _full(analyzer: FaceAnalyzer, data: bytes) -> str:
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    previous_max = PILImage.MAX_IMAGE_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    PILImage.MAX_IMAGE_PIXELS = None
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            pixels = np.ascontiguousarray(np.asarray(im.convert("RGB")))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
        PILImage.MAX_IMAGE_PIXELS = previous_max
    analyzer.engine.detect(Image(pixels=pixels, source_format="bench"), analyzer.settings.detect)
    return f"decoded {pixels.shape[1]}x{pixels.shape[0]}"


def _time(fn: Callable[[], str]) -> tuple[float, str]:
    started = time.perf_counter()
    outcome = fn()
    return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"CPU: {platform.processor() or platform.machine()}; vector units: {vector_units()}")
    analyzer = FaceAnalyzer()
    inputs = {"629-byte JPEG saying 6000x6000": trick_jpeg(),
              "116 KB PNG of 6300x6300": trick_png(),
              "6000x4000 JPEG": large_jpeg()}
    analyzer.assess(np.zeros((64, 64, 3), dtype=np.uint8))  # load the models first
    print(f"{'input':34} {'bytes':>10} {'bounded':>9} {'full':>9} {'ratio':>7}  bounded outcome")
    for name, data in inputs.items():
        bounded: list[float] = []
        full: list[float] = []
        outcome = ""
        for _ in range(args.rounds):
            seconds, outcome = _time(lambda d=data: _bounded(analyzer, d))
            bounded.append(seconds)
            full.append(_time(lambda d=data: _full(analyzer, d))[0])
        b, f = statistics.median(bounded), statistics.median(full)
        print(f"{name:34} {len(data):>10,} {b:>8.3f}s {f:>8.3f}s {f / b:>6.0f}x  {outcome}")


if __name__ == "__main__":
    main()
