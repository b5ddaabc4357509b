"""A camera is registered only through the gate: never in a private space (R12); at a
public place only for public security and with a record of its sign (R13); only for
purposes of its own site (R1). Every refusal is audited. A source's credentials are
never shown."""

from __future__ import annotations

import dataclasses
import time

import pytest

from facegate.cameras.models import Camera, check_source, classify_source, redact_source
from facegate.cameras.repository import put_stream
from facegate.deployment import Deployment
from facegate.errors import (
    AlreadyRegistered,
    CameraNotFound,
    CameraStreamConflict,
    InvalidArgument,
    PolicyRefusal,
    SiteNotFound,
)
from facegate.jurisdictions import get_profile
from facegate.organisation.models import SiteType
from facegate.policy import gate
from facegate.purposes.models import Mode

from ..support.asserts import assert_refused
from ..support.governed import add_purpose
from ..support.words import both
from .conftest import CAMERA, PACK, PURPOSE

STATION = "security.station.watch"


@pytest.fixture
def sites(lobby: tuple[Deployment, dict[str, str]]) -> Deployment:
    """The lobby's deployment with a public place (a station hall, its zone and signs
    attested) and a public-security purpose there."""
    d, _ = lobby
    d.register_site(key="station.hall", name=both("Station hall"), site_type="station",
                    public_place=True, capture_zone="the ticket barriers",
                    signage_attested=True)
    add_purpose(d, STATION, site="station.hall", modes=("identify",), public_security=True,
                pack=PACK, threshold=None)
    return d


def _refusals(d: Deployment) -> list[dict[str, object]]:
    return [{"rule": e.rule, "outcome": e.outcome, **e.detail} for e in d.audit_events("refusal")]


def test_a_camera_in_a_private_space_is_refused_r12(sites: Deployment) -> None:
    d = sites
    with pytest.raises(PolicyRefusal) as caught:
        d.register_camera(id="hq.changing-1", site="hq.lobby", purposes=[PURPOSE],
                          placement="changing_room")
    assert_refused(caught.value, "site.private_space", "R12")
    assert "changing_room is a private space" in caught.value.message
    refused = _refusals(d)[-1]
    assert refused["rule"] == "R12" and refused["action"] == "register-camera"
    assert [c.id for c in d.cameras()] == [CAMERA]
    with pytest.raises(CameraNotFound):
        d.camera("hq.changing-1")


def test_a_private_site_cannot_hold_a_camera_r12(sites: Deployment) -> None:
    with pytest.raises(PolicyRefusal) as caught:
        sites.register_site(key="hq.washroom", name=both("Washroom"), site_type="toilet")
    assert_refused(caught.value, "site.private_space", "R12")
    with pytest.raises(SiteNotFound):  # the site is not there to hold one
        sites.register_camera(id="washroom-1", site="hq.washroom", purposes=[PURPOSE])
    # and the gate refuses a camera at a private site's record wherever it came from
    # (a store edited behind facegate's back)
    washroom = dataclasses.replace(sites.sites()[0], key="hq.washroom",
                                   site_type=SiteType.TOILET)
    camera = Camera(id="washroom-1", site_key="hq.washroom", purposes=(PURPOSE,),
                    mode=Mode.IDENTIFY, placement=SiteType.TOILET, label="", signage=None,
                    source_shown=None, registered_at=washroom.registered_at)
    decision = gate.check_camera(camera, washroom, [sites.purpose(PURPOSE)],
                                 get_profile("cn-2025"))
    assert not decision.allowed and decision.reasons[0].rule == "R12"


def test_a_public_place_camera_without_signage_is_refused_r13(sites: Deployment) -> None:
    with pytest.raises(PolicyRefusal) as caught:
        sites.register_camera(id="station.gate-1", site="station.hall", purposes=[STATION])
    assert_refused(caught.value, "site.public_place_unmet", "R13")
    assert "record the prominent sign" in caught.value.message
    assert _refusals(sites)[-1]["action"] == "register-camera"
    camera = sites.register_camera(
        id="station.gate-1", site="station.hall", purposes=[STATION],
        signage="Sign S-14 at the barriers: face recognition for public security, "
                "operator Example Ltd")
    assert camera.signage is not None and camera.placement.value == "station"


def test_a_public_place_camera_needs_a_public_security_purpose_r13(sites: Deployment) -> None:
    with pytest.raises(PolicyRefusal) as caught:
        sites.register_camera(id="station.gate-2", site="station.hall", purposes=[PURPOSE],
                              signage="Sign S-15")
    assert_refused(caught.value, "site.public_place_unmet", "R13")
    assert f"only a public-security purpose may use it, not {PURPOSE}" in caught.value.message
    rules = {r["code"]: r["rule"] for r in caught.value.details["reasons"]}
    assert rules["camera.purpose_elsewhere"] == "R1"  # and it belongs to another site


def test_a_camera_serves_only_its_own_sites_purposes_r1(sites: Deployment) -> None:
    with pytest.raises(PolicyRefusal) as caught:
        sites.register_camera(id="hq.side-door", site="hq.lobby", purposes=[STATION])
    assert_refused(caught.value, "camera.purpose_elsewhere", "R1")


def test_registration_is_audited_and_the_source_never_shown(
        sites: Deployment) -> None:
    secret = "rtsp://admin:s3cret-pass@10.0.0.7:554/stream1?token=abc123&channel=2"
    camera = sites.register_camera(id="hq.back-door", site="hq.lobby", purposes=[PURPOSE],
                                   source=secret)
    assert camera.source_shown == "rtsp://admin:***@10.0.0.7:554/stream1?token=***&channel=2"
    entry = sites.audit_events("camera-registered")[-1]
    assert entry.detail["source"] == camera.source_shown
    with pytest.raises(AlreadyRegistered):
        sites.register_camera(id="hq.back-door", site="hq.lobby", purposes=[PURPOSE])
    raw = b"".join(str(row).encode() for table in ("cameras", "audit_events")
                   for row in sites.connection.execute(f"SELECT * FROM {table}"))
    assert b"s3cret-pass" not in raw and b"abc123" not in raw
    states = {s.camera.id: s for s in sites.camera_states()}
    assert states["hq.back-door"].state == "idle"
    assert states["hq.back-door"].as_dict()["source"] == camera.source_shown


def test_odd_registrations_are_typed_errors(sites: Deployment) -> None:
    d = sites
    for bad in ({"id": "Lobby Door"}, {"purposes": []}, {"mode": "watch"},
                {"placement": "attic"}, {"source": "file:///etc/passwd"},
                {"source": "/var/videos/clip.mp4"}, {"source": "rtsp://"}):
        spec: dict[str, object] = {"id": "hq.odd", "site": "hq.lobby", "purposes": [PURPOSE],
                                   **bad}
        with pytest.raises(InvalidArgument):
            d.register_camera(**spec)  # type: ignore[arg-type]
    gate = d.register_camera(id="hq.gate-1", site="hq.lobby", purposes=[PURPOSE],
                             mode="verify")  # a verification camera (a card reader's claims)
    assert gate.mode.value == "verify" and d.camera("hq.gate-1").mode.value == "verify"
    with pytest.raises(CameraNotFound):
        d.watch("hq.nowhere")
    with pytest.raises(CameraStreamConflict):  # no stored source, none given
        d.watch(CAMERA)
    with pytest.raises(CameraStreamConflict):
        d.stop_camera(CAMERA)


def test_sources_are_classified_and_redacted() -> None:
    assert classify_source("rtsps://cam.example/live").value == "rtsp"
    assert classify_source("https://cam.example/live.ts").value == "http"
    assert classify_source("/dev/video0").value == "device"
    assert classify_source("clip.mp4").value == "file"
    assert check_source("/dev/video2", files=False).value == "device"
    assert redact_source("http://user@cam.example/x") == "http://***@cam.example/x"
    assert redact_source("https://cam.example/x?Password=p&sig=s&w=640#frag") == \
        "https://cam.example/x?Password=***&sig=***&w=640"
    assert redact_source("/dev/video0") == "/dev/video0"
    for bad in ("", "ftp://cam.example/x", "rtsp://cam\n.example/x", "x" * 2001):
        with pytest.raises(InvalidArgument):
            classify_source(bad)


def test_a_cameras_purposes_run_one_pack(sites: Deployment) -> None:
    """A camera's frames are searched with one detector's faces: purposes of different
    model packs cannot share it."""
    add_purpose(sites, "access.lobby.visitors", modes=("identify",), pack="dlib-resnet-v1")
    with pytest.raises(InvalidArgument) as caught:
        sites.register_camera(id="hq.mixed", site="hq.lobby",
                              purposes=[PURPOSE, "access.lobby.visitors"])
    assert caught.value.details["packs"] == ["dlib-resnet-v1", PACK]


def test_a_stream_whose_process_stopped_reporting_shows_as_lost(sites: Deployment) -> None:
    """A process that held a camera's stream and died says nothing; its hold lapses and
    the camera shows as lost, and another process may start it."""
    with sites.connection:
        put_stream(sites.connection, camera_id=CAMERA, wanted="run", requested_by="op",
                   state="running", at=sites.cameras()[0].registered_at, holder="gone:1",
                   lease_until=time.time() - 1.0, session_id="s-1")
    (state,) = [s for s in sites.camera_states() if s.camera.id == CAMERA]
    assert state.state == "lost" and state.session_id == "s-1"
    with sites.connection:
        sites.connection.execute("UPDATE camera_streams SET lease_until = ?",
                                 (time.time() + 60.0,))
    with pytest.raises(CameraStreamConflict):  # a live hold elsewhere: not here too
        sites.watch(CAMERA, source="/dev/video9")
