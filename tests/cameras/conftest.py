"""Fixtures for the camera tests: the ArcFace pack's analyzer (fast on a CPU), the people
of the test videos as sprites, and a lobby with two enrolled people and a camera."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.deployment import Deployment
from facegate.engine.pack_install import find_pack, is_installed

from ..support.governed import add_purpose, consent
from ..support.words import both
from .clips import sprite

PACK = "faceplugin-arcface-v1"
PURPOSE = "access.lobby.entry"
CAMERA = "lobby-door-1"
#: Enrolled from one photo, seen on camera in another where the person has two.
ENROLLED = {"obama": ("face_recognition/examples/obama.jpg",
                      "face_recognition/examples/obama2.jpg"),
            "biden": ("face_recognition/examples/biden.jpg",
                      "face_recognition/examples/biden.jpg")}
STRANGERS = {"lennon": "openface/images/examples/lennon-1.jpg",
             "rudd": "facenet_pytorch/data/test_images/paul_rudd/1.jpg",
             "carell": "openface/images/examples/carell.jpg"}


@pytest.fixture(scope="session")
def arcface() -> FaceAnalyzer:
    """The faceplugin ArcFace pack's analyzer; skips when the pack is not installed."""
    if not is_installed(find_pack(PACK)):
        pytest.skip(f"the {PACK} pack is not installed (facegate models install {PACK})")
    return FaceAnalyzer.for_pack(PACK)


@pytest.fixture(scope="session")
def identity(samples: Path) -> Path:
    return samples / "identity"


@pytest.fixture(scope="session")
def sprites(arcface: FaceAnalyzer, identity: Path) -> dict[str, object]:
    """Each person of the videos as the region around their face, the face 80 px tall."""
    out: dict[str, object] = {n: sprite(arcface, identity / seen)
                              for n, (_, seen) in ENROLLED.items()}
    out.update({n: sprite(arcface, identity / p) for n, p in STRANGERS.items()})
    return out


@pytest.fixture
def lobby(open_deployment: Callable[..., Deployment], arcface: FaceAnalyzer,
          identity: Path) -> tuple[Deployment, dict[str, str]]:
    """An office lobby with an identification purpose on the ArcFace pack, the two
    enrolled people (name to subject id) and a registered camera."""
    d = open_deployment(analyzer=arcface)
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", province=both("Shanghai"),
                         security_measures=both("device storage, access control"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, PURPOSE, pack=PACK, threshold=None)
    ids = {}
    for name, (enrolled, _) in ENROLLED.items():
        s = d.register_subject(age_band="adult")
        consent(d, s.id, PURPOSE, method="written")
        d.enroll(subject=s.id, purpose=PURPOSE, image=identity / enrolled)
        ids[name] = s.id
    d.register_camera(id=CAMERA, site="hq.lobby", purposes=[PURPOSE], label="Lobby door")
    return d, ids
