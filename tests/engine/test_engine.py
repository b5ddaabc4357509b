"""Every pack's engine on real faces: counts, orientation, landmarks, descriptors.

Each test runs once per shipped model pack (``dlib-resnet-v1``, the default,
and ``faceplugin-arcface-v1``, skipped until installed). Both find faces the
same way: with the ``dlib`` extra installed through dlib's HOG detector (tests
that name HOG need it and skip without it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegate.analysis import FaceAnalyzer
from facegate.comparison import compare_descriptors
from facegate.engine.base import DetectOptions, DetectorChoice, Engine
from facegate.engine.dlib_engine import DlibEngine
from facegate.engine.faces import DetectorKind, LandmarkScheme
from facegate.engine.onnx_engine import dlib_available
from facegate.errors import ModelPackMissing, MultipleFaces, NoFaceFound
from facegate.images import Image, load_image
from tests.support.engines import PACK_IDS, pack_engine

EXAMPLES = "identity/face_recognition/examples"
needs_dlib = pytest.mark.skipif(not dlib_available(),
                                reason="dlib's HOG detector needs the dlib extra "
                                       "(pip install -e '.[dlib]')")


@pytest.fixture(scope="module", params=PACK_IDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    return pack_engine(request.param)


@pytest.fixture(scope="module")
def analyzer(engine: Engine) -> FaceAnalyzer:
    return FaceAnalyzer(engine)


def test_engine_satisfies_the_protocol(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    assert engine.pack.id in PACK_IDS


@pytest.mark.parametrize(("path", "count"), [
    (f"{EXAMPLES}/two_people.jpg", 2),
    (f"{EXAMPLES}/knn_examples/test/kit_with_rose.jpg", 2),
    ("identity/openface/images/examples/longoria-cooper.jpg", 2),
    ("identity/deepface/tests/unit/dataset/couple.jpg", 2),
    (f"{EXAMPLES}/obama.jpg", 1),
])
def test_multi_face_photos_have_the_right_count(analyzer: FaceAnalyzer, samples: Path,
                                                path: str, count: int) -> None:
    assert len(analyzer.detect(samples / path)) == count


def test_labelled_faces_are_found_left_to_right(analyzer: FaceAnalyzer, samples: Path) -> None:
    # obama_and_biden.jpg: Biden left, Obama right, and a child partly visible at lower right.
    faces = analyzer.embed(samples / f"{EXAMPLES}/knn_examples/test/obama_and_biden.jpg")
    assert len(faces) >= 2
    left, right = sorted(faces[:2], key=lambda f: f.box.left)
    biden = analyzer.embed_single(samples / f"{EXAMPLES}/biden.jpg").descriptor
    obama = analyzer.embed_single(samples / f"{EXAMPLES}/obama.jpg").descriptor
    assert biden is not None and obama is not None
    assert left.descriptor is not None and right.descriptor is not None
    assert compare_descriptors(left.descriptor, biden).same_person
    assert compare_descriptors(right.descriptor, obama).same_person
    assert not compare_descriptors(left.descriptor, obama).same_person


def test_exif_rotated_photos_are_detected_upright(analyzer: FaceAnalyzer, samples: Path) -> None:
    folder = samples / "liveness/silent_face_anti_spoofing/images/sample"
    for name in ("image_T1.jpg", "image_F1.jpg", "image_F2.jpg"):
        image = load_image(folder / name)
        assert (image.width, image.height) == (480, 640)
        faces = analyzer.detect(image)
        assert len(faces) == 1, name
        eyes = faces[0].landmarks.as_array()
        # Upright: both eyes' corners lie above the nose base (image y grows downwards).
        assert eyes[:4, 1].max() < eyes[4, 1], name


def test_landmark_schemes(analyzer: FaceAnalyzer, samples: Path) -> None:
    face = analyzer.detect(samples / f"{EXAMPLES}/obama.jpg", landmarks68=True)[0]
    assert face.landmarks.scheme is LandmarkScheme.FIVE and len(face.landmarks.points) == 5
    assert face.landmarks68 is not None
    assert face.landmarks68.scheme is LandmarkScheme.SIXTY_EIGHT
    assert len(face.landmarks68.points) == 68
    box, margin = face.box, 0.25 * face.box.width  # HOG and MMOD boxes frame faces differently
    inside = [box.left - margin <= x <= box.right + margin
              and box.top - margin <= y <= box.bottom + margin
              for x, y in face.landmarks68.points]
    assert all(inside)


def test_descriptor_is_unit_length_and_names_its_pack(analyzer: FaceAnalyzer,
                                                      samples: Path) -> None:
    face = analyzer.embed_single(samples / f"{EXAMPLES}/obama.jpg")
    d = face.descriptor
    assert d is not None
    pack = analyzer.pack
    assert (d.size, d.pack, d.pack_version) == (pack.descriptor_size, pack.id, pack.version)
    assert float(np.linalg.norm(d.vector)) == pytest.approx(1.0, abs=1e-5)
    assert not d.vector.flags.writeable
    assert len(d.to_bytes()) == pack.descriptor_size * 4


def test_descriptors_are_deterministic(engine: Engine, samples: Path) -> None:
    image = load_image(samples / f"{EXAMPLES}/biden.jpg")
    faces = engine.detect(image)
    first = engine.embed(image, faces)[0].descriptor
    second = engine.embed(image, faces)[0].descriptor
    assert first is not None and second is not None
    assert np.array_equal(first.vector, second.vector)


def test_detection_repeats_on_a_strided_view(engine: Engine, samples: Path) -> None:
    """A view with padded rows (as video decoders return frames) is detected the same
    every time; dlib's detector once found the face only on the first call."""
    pixels = load_image(samples / f"{EXAMPLES}/obama.jpg").pixels
    padded = np.zeros((pixels.shape[0], pixels.shape[1] + 1, 3), dtype=np.uint8)
    padded[:, :pixels.shape[1]] = pixels
    view = Image(pixels=padded[:, :pixels.shape[1]], source_format="array")
    assert view.pixels.flags.c_contiguous
    found = [[f.box for f in engine.detect(view)] for _ in range(3)]
    assert len(found[0]) == 1 and found[1] == found[0] and found[2] == found[0]


def _dlib_front(engine: Engine) -> None:
    if getattr(engine, "front", "dlib") != "dlib":
        pytest.skip("the faceplugin front end has one detector: HOG, CNN and AUTO do not apply")


@needs_dlib
def test_cnn_detector_finds_the_same_face(engine: Engine, samples: Path) -> None:
    _dlib_front(engine)
    image = load_image(samples / f"{EXAMPLES}/obama_small.jpg")
    hog = engine.detect(image, DetectOptions(detector=DetectorChoice.HOG))
    cnn = engine.detect(image, DetectOptions(detector=DetectorChoice.CNN))
    assert len(hog) == len(cnn) == 1
    assert hog[0].detector is DetectorKind.HOG and cnn[0].detector is DetectorKind.CNN
    (hx, hy), (cx, cy) = hog[0].box.center, cnn[0].box.center
    assert abs(hx - cx) < hog[0].box.width * 0.25 and abs(hy - cy) < hog[0].box.height * 0.25


@needs_dlib
def test_auto_falls_back_to_cnn_only_when_hog_finds_nothing(engine: Engine,
                                                             samples: Path) -> None:
    _dlib_front(engine)
    image = load_image(samples / f"{EXAMPLES}/obama.jpg")
    auto = engine.detect(image, DetectOptions(detector=DetectorChoice.AUTO))
    assert [f.detector for f in auto] == [DetectorKind.HOG]


def test_large_photos_are_downscaled_for_detection_only(engine: Engine,
                                                         samples: Path) -> None:
    image = load_image(samples / f"{EXAMPLES}/obama-1080p.jpg")
    full = engine.detect(image, DetectOptions(max_side=2000))
    small = engine.detect(image, DetectOptions(max_side=640))
    assert len(full) == len(small) == 1
    assert abs(full[0].box.center[0] - small[0].box.center[0]) < 12
    assert small[0].box.right <= image.width and small[0].box.bottom <= image.height


def test_no_face_and_ambiguous_faces_are_typed_errors(analyzer: FaceAnalyzer,
                                                      samples: Path) -> None:
    with pytest.raises(NoFaceFound) as none:
        analyzer.embed_single(np.full((200, 200, 3), 90, dtype=np.uint8))
    assert none.value.code == "face.not_found"
    with pytest.raises(MultipleFaces) as many:
        analyzer.embed_single(samples / f"{EXAMPLES}/two_people.jpg")
    assert many.value.code == "face.multiple" and many.value.details["faces"] == 2


@needs_dlib
def test_a_small_background_face_does_not_make_a_photo_ambiguous(analyzer: FaceAnalyzer,
                                                                   samples: Path) -> None:
    # img4.jpg: the subject plus a small, blurred face in the background (which the
    # faceplugin detector, seeing the photo at 320x240, does not find at all).
    path = samples / "identity/deepface/tests/unit/dataset/img4.jpg"
    assert len(analyzer.detect(path)) == (2 if getattr(analyzer.engine, "front", "dlib") == "dlib"
                                          else 1)
    assert analyzer.embed_single(path).box.width > 500


@needs_dlib
def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    engine = DlibEngine(models_dir=tmp_path)
    image = load_image(np.full((100, 100, 3), 128, dtype=np.uint8))
    with pytest.raises(ModelPackMissing) as info:
        engine.detect(image, DetectOptions(detector=DetectorChoice.CNN))
    assert info.value.code == "model.missing"
    assert "mmod_human_face_detector.dat" in info.value.message
