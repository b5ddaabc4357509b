"""``facegate demo``: a short, offline tour of the engine.

It uses, in order of preference, the photos the user names, the labelled
samples in ``../shared/data`` when present, and the public-domain astronaut
photo that ships inside scikit-image. Nothing is downloaded and nothing is
written to disk.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

from ..analysis import FaceAnalyzer
from ..errors import Error
from ..images import Image, load_image

__all__ = ["find_shared_data", "run_demo"]

# Same-person and different-person pairs from the labelled samples, by path.
_SAMPLE_PAIRS = (
    ("identity/face_recognition/examples/obama.jpg",
     "identity/face_recognition/examples/obama2.jpg"),
    ("identity/face_recognition/examples/obama.jpg",
     "identity/face_recognition/examples/biden.jpg"),
    ("identity/openface/images/examples/lennon-1.jpg",
     "identity/openface/images/examples/lennon-2.jpg"),
    ("identity/openface/images/examples/lennon-1.jpg",
     "identity/openface/images/examples/clapton-2.jpg"),
)


def find_shared_data(explicit: Path | None = None) -> Path | None:
    """The shared data folder: ``explicit``, ``$FACEGATE_DATA``, or ``../shared/data``."""
    candidates = [explicit] if explicit else []
    if os.environ.get("FACEGATE_DATA"):
        candidates.append(Path(os.environ["FACEGATE_DATA"]))
    candidates += [Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    for c in candidates:
        if c is not None and (c / "samples" / "labels.csv").is_file():
            return c
    return None


def _astronaut() -> Image | None:
    try:
        from skimage import data
    except ImportError:
        return None
    return load_image(np.asarray(data.astronaut(), dtype=np.uint8))  # type: ignore[no-untyped-call]


def run_demo(images: list[Path], data: Path | None, *, echo: Callable[[str], None],
             heading: Callable[[str], None], error: Callable[[str], None]) -> int:
    """Run the tour; returns the exit status.

    ``echo`` writes a line, ``heading`` a step's title and ``error`` a failure
    (the command line styles them; this module prints nothing itself).
    """
    analyzer = FaceAnalyzer()
    shared = find_shared_data(data)
    photos: list[tuple[str, Image]] = []
    try:
        for p in images:
            photos.append((str(p), analyzer.load(p)))
        if not photos:
            astronaut = _astronaut()
            if astronaut is not None:
                photos.append(("scikit-image astronaut (public domain)", astronaut))
        if shared is not None and not images:
            photos.append(("samples: two_people.jpg", analyzer.load(
                shared / "samples/identity/face_recognition/examples/two_people.jpg")))
    except Error as exc:
        error(f"facegate: {exc.code}: {exc.message}")
        return 1
    if not photos:
        error("facegate: demo.no_photos: name photos to use, or install the demo extra "
              "(pip install 'facegate[demo]') for the astronaut photo")
        return 1

    heading("1. Detect and check quality")
    for label, image in photos:
        faces = analyzer.detect(image)
        echo(f"{label}: {image.width}x{image.height}, {len(faces)} face(s)")
        for report in analyzer.assess(image):
            m = report.metrics
            verdict = "ok" if report.passed else "refused: " + ", ".join(report.reasons)
            if m:
                echo(f"  face {int(m['face_size'])} px, sharpness {m['sharpness']:.0f}, "
                           f"brightness {m['brightness']:.0f}, yaw {m['yaw']:+.0f}°, "
                           f"pitch {m['pitch']:+.0f}° -> {verdict}")
            else:
                echo(f"  -> {verdict}")

    heading("2. Quality refusals have reasons")
    label, image = photos[0]
    blurred = PILImage.fromarray(image.pixels).filter(ImageFilter.GaussianBlur(radius=2.5))
    report = analyzer.assess_single(np.asarray(blurred))
    echo(f"{label}, blurred: "
               + ("ok" if report.passed else "refused: " + ", ".join(report.reasons)))

    heading("3. Compare faces")
    pairs: list[tuple[str, Image | Path, Image | Path]] = []
    if len(photos) >= 2 and images:
        pairs.append((f"{photos[0][0]} vs {photos[1][0]}", photos[0][1], photos[1][1]))
    if shared is not None:
        for first, second in _SAMPLE_PAIRS:
            pairs.append((f"{Path(first).name} vs {Path(second).name}",
                          shared / "samples" / first, shared / "samples" / second))
    if not pairs:
        mirrored = load_image(np.ascontiguousarray(photos[0][1].pixels[:, ::-1]))
        pairs.append((f"{photos[0][0]} vs its mirror image (same photo)", photos[0][1], mirrored))
    for title, left, right in pairs:
        try:
            r = analyzer.compare(left, right)
        except Error as exc:
            echo(f"{title}: {exc.code}: {exc.message}")
            continue
        verdict = "same person" if r.same_person else "different people"
        echo(f"{title}: {verdict} (distance {r.distance:.3f}, threshold "
                   f"{r.threshold:.3f}, similarity {r.similarity:.3f})")

    heading("4. Bad input is refused with a stable code")
    for what, payload in (("a text file", b"this is not a photo\n"),
                           ("a truncated JPEG", _truncated_jpeg(photos[0][1]))):
        try:
            analyzer.detect(payload)
        except Error as exc:
            echo(f"{what}: {exc.code}: {exc.message}")
    if shared is None:
        echo("\n(../shared/data not found: the sample comparisons were skipped.)")
    echo("\nNothing was stored: no image and no descriptor left memory.")
    return 0


def _truncated_jpeg(image: Image) -> bytes:
    import io

    buf = io.BytesIO()
    PILImage.fromarray(image.pixels).save(buf, format="JPEG")
    data = buf.getvalue()
    return data[: len(data) // 2]


def load_sample_labels(shared: Path) -> list[dict[str, str]]:
    """Rows of ``samples/labels.csv``."""
    with (shared / "samples" / "labels.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
