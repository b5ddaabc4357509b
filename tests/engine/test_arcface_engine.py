"""The ArcFace pack's front end where its detector finds nothing: the padded retry for
close-up crops and the turned-face fallback; and the turned-away refusal.

Real faces from ``../shared/data``; the pack must be installed (the tests skip and
say how to install it otherwise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer
from facegate.comparison import compare_descriptors
from facegate.engine.arcface_engine import ArcfaceEngine
from facegate.engine.faces import DetectorKind
from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1
from facegate.images import Image, load_image
from facegate.quality import QualityReason

from ..support.engines import pack_engine

ARCFACE = FACEPLUGIN_ARCFACE_V1.id
#: openface's 96x96 aligned crop of Steve Carell: the face fills the frame, and the pack's
#: detector finds nothing in it (docs/accuracy.md, the labelled samples).
CLOSE_UP = "identity/openface/images/examples-aligned/carell.png"
CARELL = "identity/openface/images/examples/carell.jpg"
#: deepface's img27.jpg turned 65 degrees in the image plane: neither the pack's detector
#: nor the padded retry finds it; dlib's MMOD network does.
TILTED = "identity/deepface/tests/unit/dataset/img27.jpg"


@pytest.fixture(scope="module")
def engine() -> ArcfaceEngine:
    found = pack_engine(ARCFACE)
    assert isinstance(found, ArcfaceEngine)
    return found


@pytest.fixture(scope="module")
def plain() -> ArcfaceEngine:
    pack_engine(ARCFACE)  # skips when the pack is not installed
    return ArcfaceEngine(FACEPLUGIN_ARCFACE_V1, retries=False)


def test_the_padded_retry_finds_a_face_that_fills_the_frame(
        engine: ArcfaceEngine, plain: ArcfaceEngine, samples: Path) -> None:
    crop = load_image(samples / CLOSE_UP)
    assert plain.detect(crop) == []
    faces = engine.detect(crop)
    assert len(faces) == 1 and faces[0].detector is DetectorKind.FACEPLUGIN
    box = faces[0].box
    assert 0 <= box.left < box.right <= crop.width and 0 <= box.top < box.bottom <= crop.height
    # the face it found is Steve Carell's: it matches his full photo at the pack's threshold
    photo = load_image(samples / CARELL)
    a = engine.embed(crop, faces)[0].descriptor
    b = engine.embed(photo, engine.detect(photo)[:1])[0].descriptor
    assert a is not None and b is not None
    assert compare_descriptors(a, b).same_person


def test_the_padded_retry_runs_only_where_the_detector_found_nothing(
        engine: ArcfaceEngine, plain: ArcfaceEngine, samples: Path) -> None:
    photo = load_image(samples / CARELL)
    assert [f.box for f in engine.detect(photo)] == [f.box for f in plain.detect(photo)]


def test_the_turned_face_fallback_finds_what_the_pack_misses(
        engine: ArcfaceEngine, plain: ArcfaceEngine, samples: Path) -> None:
    tilted = PILImage.open(samples / TILTED).convert("RGB").rotate(65, expand=True)
    image = Image(pixels=np.ascontiguousarray(np.asarray(tilted)), source_format="ARRAY")
    assert plain.detect(image) == []
    faces = engine.detect(image)
    assert faces and faces[0].detector is DetectorKind.CNN
    assert faces[0].landmarks68 is not None and len(faces[0].landmarks68.points) == 68


def test_a_face_turned_away_is_refused_before_it_is_described(shared: Path) -> None:
    analyzer = FaceAnalyzer(pack_engine(ARCFACE))
    turned = shared / "eastasian/thefamouspeople_eastasian/yao-ming/yao-ming-3.jpg"
    report = analyzer.assess_single(turned)
    assert QualityReason.TURNED_AWAY in report.reasons
    assert report.metrics["yaw"] > analyzer.settings.quality.max_yaw
