"""A verification camera on video made now from the shared photos: a claimed identity (a
card at the reader) is compared 1:1 with the face that comes, once per claim.

The claimed person opens the door (``door.open``); someone else with the claim does
not (``door.refused``, and nothing of their face is kept); a claim no face takes in its
window expires; a claim for a subject who withdrew consent is refused by the gate with
the rule cited, and one withdrawn while the claim waits refuses the decision.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from PIL import ImageOps

from facegate.analysis import FaceAnalyzer
from facegate.api import ApiSettings, create_app
from facegate.cameras.pipeline import DecisionRecord, Outcome
from facegate.cli import cli
from facegate.demo.governed import demo_assessment
from facegate.deployment import Deployment
from facegate.deployment.streams import StreamSession
from facegate.errors import CameraStreamConflict, InvalidArgument, PolicyRefusal, SubjectNotFound

from ..support.governed import consent
from ..support.storage import JPEG, PNG
from .clips import Pass, background, encode, render, sprite
from .conftest import ENROLLED, PURPOSE, STRANGERS

GATE = "lobby-gate-1"
FPS = 10


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, arcface: FaceAnalyzer,
          identity: Path) -> dict[str, Path]:
    """One person crossing the gate in 2 s, after half a second of empty wall (obama,
    lennon); obama arriving after 2.5 s (``late``). The faces are 100 px tall, as near
    a card reader: a 1:1 decision is made only on a face within what the threshold's
    calibration measured (here no smaller than 71 px), else it is ``undecided``."""
    folder = tmp_path_factory.mktemp("gate")
    sprites = {"obama": sprite(arcface, identity / ENROLLED["obama"][1], face=100),
               "lennon": sprite(arcface, identity / STRANGERS["lennon"], face=100)}
    return {"obama": encode(render(sprites, [Pass("obama", 0, 5, 25)], 30),
                            folder / "obama.mp4", fps=FPS),
            "lennon": encode(render(sprites, [Pass("lennon", 0, 5, 25)], 30),
                             folder / "lennon.mp4", fps=FPS),
            "late": encode(render(sprites, [Pass("obama", 0, 25, 45)], 50),
                           folder / "late.mp4", fps=FPS)}


@pytest.fixture
def gate(lobby: tuple[Deployment, dict[str, str]]) -> tuple[Deployment, dict[str, str]]:
    d, ids = lobby
    d.register_camera(id=GATE, site="hq.lobby", purposes=[PURPOSE], mode="verify",
                      label="Lobby gate, card reader")
    return d, ids


def _watch(d: Deployment, clip: Path, records: list[DecisionRecord]) -> StreamSession:
    return d.watch(GATE, source=str(clip), on_decision=records.append, operator="reader:1")


def test_the_claimed_person_opens_and_someone_else_with_the_claim_does_not(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path]) -> None:
    d, ids = gate
    door, _ = d.register_webhook(url="https://door.example/events", audience="door",
                                 label="door controller")
    records: list[DecisionRecord] = []
    session = _watch(d, clips["obama"], records)
    claim = d.claim(GATE, subject=ids["obama"], operator="reader:1")
    assert session.wait(30)
    assert [(r.outcome, r.subject) for r in records] == [(Outcome.MATCH, ids["obama"])]
    opened = d.audit_events("camera-match")
    assert len(opened) == 1 and opened[0].subject_id == ids["obama"]
    assert opened[0].detail["claim"] == claim.id and opened[0].detail["mode"] == "verify"
    assert d.audit_events("camera-claim")[-1].detail["claim"] == claim.id

    # the same card shown by someone else: one decision, refused, nothing of the face
    before = d.audit_head()
    records.clear()
    session = _watch(d, clips["lennon"], records)
    other = d.claim(GATE, subject=ids["obama"], operator="reader:1")
    assert session.wait(30)
    assert [r.outcome for r in records] == [Outcome.NO_MATCH]
    assert len(d.audit_events("camera-match")) == 1
    refused = [e for e in d.audit_events("camera-claim-refused") if e.seq > before]
    assert [(e.outcome, e.subject_id, e.detail["claim"]) for e in refused] == [
        ("no_match", ids["obama"], other.id)]
    counts = d.audit_events("stream-stopped")[-1].detail["counts"]
    assert counts["no_matches"] == 1 and counts["matches"] == 0 and counts["embeddings"] == 1
    outbox = [(str(r[0]), str(r[1])) for r in d.connection.execute(
        "SELECT endpoint_id, event_type FROM webhook_outbox ORDER BY event_seq")]
    assert [t for e, t in outbox if e == door.id] == ["door.open", "door.refused"]
    for table in ("audit_events", "webhook_outbox", "review_cases"):
        for row in d.connection.execute(f"SELECT * FROM {table}"):
            blob = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
            assert JPEG not in blob and PNG not in blob


def test_a_claim_no_face_takes_in_its_window_expires_and_opens_nothing(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path]) -> None:
    d, ids = gate
    records: list[DecisionRecord] = []
    session = _watch(d, clips["late"], records)
    claim = d.claim(GATE, subject=ids["obama"], window=1.0, operator="reader:1")
    assert session.wait(30)
    assert records == []  # obama came after the window: nobody was decided
    expired = d.audit_events("camera-claim-refused")
    assert [(e.outcome, e.detail["claim"]) for e in expired] == [("expired", claim.id)]
    assert not d.audit_events("camera-match")
    counts = d.audit_events("stream-stopped")[-1].detail["counts"]
    assert counts["tracks"] >= 1 and counts["decisions"] == 0 and counts["embeddings"] == 0


def test_a_claim_for_a_subject_who_withdrew_consent_is_refused_by_the_gate(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path]) -> None:
    d, ids = gate
    records: list[DecisionRecord] = []
    session = _watch(d, clips["late"], records)
    d.withdraw_consent(subject=ids["biden"], purpose=PURPOSE)
    with pytest.raises(PolicyRefusal) as refused:
        d.claim(GATE, subject=ids["biden"], operator="reader:1")
    assert refused.value.code == "consent.withdrawn" and refused.value.rule == "R4"
    entry = d.audit_events("refusal")[-1]
    assert entry.outcome == "consent.withdrawn" and entry.rule == "R4"
    assert entry.detail["action"] == "camera-claim" and entry.subject_id == ids["biden"]

    # a claim accepted, then consent withdrawn before the face comes: the decision is
    # the gate's refusal, with its rule, and no door opens
    d.claim(GATE, subject=ids["obama"], operator="reader:1")
    d.withdraw_consent(subject=ids["obama"], purpose=PURPOSE)
    assert session.wait(30)
    assert [r.outcome for r in records] == [Outcome.REFUSED]
    decided = d.audit_events("camera-claim-refused")
    assert [(e.outcome, e.rule, e.subject_id) for e in decided] == [
        ("refused", "R4", ids["obama"])]
    assert not d.audit_events("camera-match")


def test_claims_go_only_to_a_running_verification_camera(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path]) -> None:
    d, ids = gate
    with pytest.raises(CameraStreamConflict):
        d.claim(GATE, subject=ids["obama"])  # its stream does not run here
    with pytest.raises(InvalidArgument):
        d.claim("lobby-door-1", subject=ids["obama"])  # an identification camera
    with pytest.raises(InvalidArgument):
        d.claim(GATE, subject=ids["obama"], window=600)
    records: list[DecisionRecord] = []
    session = _watch(d, clips["obama"], records)
    with pytest.raises(SubjectNotFound):
        d.claim(GATE, subject="card-0000", operator="reader:1")
    assert session.wait(30)
    assert records == []  # no claim: nobody is decided, the track only counted
    counts = d.audit_events("stream-stopped")[-1].detail["counts"]
    assert counts["tracks"] == 1 and counts["undecided"] == 1
    assert counts["decisions"] == 0 and counts["embeddings"] == 0


def test_claims_through_the_cli_and_the_api(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path], tmp_path: Path,
        arcface: FaceAnalyzer, identity: Path) -> None:
    d, ids = gate
    db = str(tmp_path / "facegate.db")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", db], obj={"analyzer": arcface})

    # the CLI runs on the system clock, after the fixture's templates have expired
    assert run("enroll", "--subject", ids["obama"], "--purpose", PURPOSE,
               str(identity / ENROLLED["obama"][0])).exit_code == 0
    added = run("camera", "register", "hq.gate-2", "--site", "hq.lobby", "--purpose", PURPOSE,
                "--mode", "verify")
    assert added.exit_code == 0, added.output
    watched = run("watch", str(clips["obama"]), "--camera", "hq.gate-2", "--claim", ids["obama"],
                  "--json")
    assert watched.exit_code == 0, watched.output
    assert "waits 10 s for a face" in watched.stderr
    summary = json.loads(watched.stdout.strip().splitlines()[-1])
    assert summary["counts"]["matches"] == 1 and summary["counts"]["decisions"] == 1
    refused = run("watch", str(clips["obama"]), "--camera", "hq.gate-2", "--claim",
                  "card-0000")
    assert refused.exit_code == 1 and refused.stderr.startswith("facegate: subject.not_found: ")

    # the API: the gate's refusal with its rule; a claim for a running stream
    d.withdraw_consent(subject=ids["biden"], purpose=PURPOSE)
    operator = {"X-API-Key": d.issue_api_key(role="operator", label="reader").secret}
    app = create_app(ApiSettings(anonymous_rate_per_minute=100_000, rate_per_minute=100_000),
                     deployment=d)
    with TestClient(app) as client:
        idle = client.post(f"/v1/cameras/{GATE}/claims", headers=operator,
                           json={"subject": ids["obama"]})
        assert idle.status_code == 409
        assert idle.json()["error"]["code"] == "camera.stream_conflict"
        records: list[DecisionRecord] = []
        session = _watch(d, clips["obama"], records)
        withdrawn = client.post(f"/v1/cameras/{GATE}/claims", headers=operator,
                                json={"subject": ids["biden"]})
        assert withdrawn.status_code == 403
        error = withdrawn.json()["error"]
        assert error["code"] == "consent.withdrawn" and error["rule"] == "R4"
        odd = client.post(f"/v1/cameras/{GATE}/claims", headers=operator,
                          json={"subject": ids["obama"], "window": 3600})
        assert odd.status_code == 422  # the body does not validate
        made = client.post(f"/v1/cameras/{GATE}/claims", headers=operator,
                           json={"subject": ids["obama"], "window": 5})
        assert made.status_code == 201, made.text
        claim = made.json()["claim"]
        assert claim["camera"] == GATE and claim["purpose"] == PURPOSE and claim["window"] == 5
        assert session.wait(30)
    assert [(r.outcome, r.subject) for r in records] == [(Outcome.MATCH, ids["obama"])]
    assert d.audit_events("camera-match")[-1].detail["claim"] == claim["id"]


def test_a_verification_camera_on_a_liveness_purpose_refuses_a_screen_replay_h1(
        gate: tuple[Deployment, dict[str, str]], clips: dict[str, Path], samples: Path,
        tmp_path: Path) -> None:
    """H1 at a verification camera: each decided shot is scored by the pack's passive
    network. The person of the shared webcam videos is enrolled from a frame of
    ``real2.webm``; ``fake2.webm`` (a phone replaying a video of him to the same webcam)
    with his claim is refused by the gate under H1, and opens nothing. The samples' one
    real camera frame of a live face (``image_T1.jpg``), held before the camera with
    that person's claim, opens. (The network also refuses ``real2.webm`` itself, the
    genuine webcam video: docs/liveness.md, docs/cameras.md.)"""
    d, _ = gate
    videos = samples / "liveness/liveness_detection_opencv/videos"
    with av.open(str(videos / "real2.webm")) as container:
        frame = next(iter(container.decode(video=0)))
    still = tmp_path / "webcam.png"
    frame.to_image().save(still)
    person = d.register_subject(age_band="adult")
    consent(d, person.id, PURPOSE, method="written")
    d.enroll(subject=person.id, purpose=PURPOSE, image=still)
    # the one real camera frame of a live face in the samples, as a person standing at
    # the reader for two seconds, enrolled from that frame: live, and let through
    real = samples / "liveness/silent_face_anti_spoofing/images/sample/image_T1.jpg"
    upright = ImageOps.exif_transpose(PILImage.open(real)).convert("RGB")
    shown = np.asarray(upright.resize((300, 400), PILImage.Resampling.LANCZOS), np.uint8)
    wall = background()
    wall[:, 170:470] = shown
    standing = encode([wall] * 20, tmp_path / "standing.mp4", fps=FPS)
    PILImage.fromarray(shown).save(tmp_path / "t1.png")
    live = d.register_subject(age_band="adult")
    consent(d, live.id, PURPOSE, method="written")
    d.enroll(subject=live.id, purpose=PURPOSE, image=tmp_path / "t1.png")
    d.update_purpose(PURPOSE, liveness_required=True)  # a change of method: a new PIA
    d.sign_assessment(purpose=PURPOSE, content=demo_assessment(), signed_by="DPO")
    d.activate_purpose(PURPOSE)

    records: list[DecisionRecord] = []
    session = d.watch(GATE, source=str(videos / "fake2.webm"), on_decision=records.append)
    d.claim(GATE, subject=person.id, window=30)
    deadline = time.monotonic() + 30  # the video is 15 s long: its first decision will do
    while not records and not session.done and time.monotonic() < deadline:
        time.sleep(0.1)
    session.stop()
    assert [(r.outcome, r.subject) for r in records] == [(Outcome.LIVENESS, None)]
    refused = d.audit_events("camera-claim-refused")
    assert [(e.outcome, e.rule, e.subject_id) for e in refused] == [
        ("liveness_refused", "H1", person.id)]
    assert d.audit_events("refusal")[-1].outcome == "liveness.required"
    assert not d.audit_events("camera-match")

    session = _watch(d, standing, records)
    d.claim(GATE, subject=live.id)
    assert session.wait(30)
    assert records[-1].outcome is Outcome.MATCH and records[-1].subject == live.id
    assert d.audit_events("camera-match")[-1].subject_id == live.id
