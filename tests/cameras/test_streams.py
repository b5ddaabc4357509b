"""A camera's stream on video made now from the shared photos: enrolled people and
strangers crossing a lobby two at a time, entering and leaving.

Every enrolled person is decided once per track (a person who comes back is a new
track); a stranger leaves no crop, no descriptor, no entry, no event and no log line,
only counts; stopping a camera ends its session with its counts in the audit log;
several cameras run in one process, each in its own pipeline.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facegate.cameras.pipeline import DecisionRecord, Outcome
from facegate.cameras.source import SourceSettings
from facegate.demo.governed import demo_assessment
from facegate.deployment import Deployment

from ..support.storage import JPEG, PNG
from .clips import Pass, encode, render, sprite
from .conftest import CAMERA, PURPOSE

#: Two at a time: one enrolled person and one stranger cross the lobby in opposite
#: directions, three times; Obama comes back for the third crossing (a new track).
PASSES = [Pass("obama", 0, 0, 20), Pass("lennon", 1, 0, 20, rightward=False),
          Pass("biden", 0, 27, 47), Pass("rudd", 1, 27, 47, rightward=False),
          Pass("obama", 0, 62, 82, rightward=False), Pass("carell", 1, 62, 82)]
FRAMES = 90


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, sprites: dict[str, Any]) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    return encode(render(sprites, PASSES, FRAMES), folder / "lobby.mp4")


def _table_counts(d: Deployment) -> dict[str, int]:
    names = [str(r[0]) for r in d.connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: int(d.connection.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0])
            for n in names}


def test_each_enrolled_person_is_decided_once_per_track_and_strangers_leave_only_counts(
        lobby: tuple[Deployment, dict[str, str]], clip: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    d, ids = lobby
    door, _ = d.register_webhook(url="https://door.example/events", audience="door",
                                 label="door controller")
    auditor, _ = d.register_webhook(url="https://siem.example/events", audience="audit",
                                    label="SIEM")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    caplog.set_level(logging.DEBUG)
    before = _table_counts(d)
    seq = d.audit_head()
    records: list[DecisionRecord] = []

    session = d.watch(CAMERA, source=str(clip), on_decision=records.append, operator="guard:1")
    assert session.wait(60)
    summary = session.summary
    assert summary is not None and summary.why == "source-ended"

    # every enrolled crossing is one track decided once, as its person
    matched = [r for r in records if r.outcome is Outcome.MATCH]
    assert Counter(r.subject for r in matched) == {ids["obama"]: 2, ids["biden"]: 1}
    assert len({r.track for r in matched}) == 3
    assert all(r.attempt == 1 for r in matched)
    strangers = {r.track for r in records if r.outcome is not Outcome.MATCH}
    assert strangers and not strangers & {r.track for r in matched}
    assert all(r.outcome is Outcome.NO_MATCH for r in records if r.track in strangers)
    counts = summary.counts
    assert counts["matches"] == 3 and counts["tracks"] == 6
    assert counts["no_matches"] == len(strangers) == 3
    assert 0 < counts["frames"] <= FRAMES and counts["faces_seen"] > counts["frames"]

    # the audit log: the session, one entry per match, nothing of a stranger
    entries = [e for e in d.audit_events(after=seq)]
    names = Counter(e.name for e in entries)
    assert names == {"stream-started": 1, "camera-match": 3, "identification-session-start": 3,
                     "identification-session-end": 3, "stream-stopped": 1}
    for e in entries:
        assert e.detail.get("track") not in strangers
        assert e.subject_id in (None, ids["obama"], ids["biden"])
    stopped = d.audit_events("stream-stopped")[-1]
    assert stopped.detail["counts"] == counts and stopped.operator == "guard:1"

    # the store: nothing new but the log, the stream's state, the three identification
    # sessions and the events of the three matches; no template, no probe, no case
    after = _table_counts(d)
    grew = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    assert grew.pop("audit_events") == len(entries)
    assert grew.pop("camera_streams") == 1
    assert grew.pop("identification_sessions") == 3
    outbox = d.connection.execute(
        "SELECT endpoint_id, event_type, body FROM webhook_outbox WHERE event_seq > ?",
        (seq,)).fetchall()
    assert grew.pop("webhook_outbox") == len(outbox)
    assert not {t: n for t, n in grew.items() if n}, grew
    assert after["templates"] == before["templates"] == 2
    # the door controller hears of the three matches only
    opened = [json.loads(b)["data"] for e, t, b in outbox if e == door.id]
    assert [o["subject"] for o in opened] == [ids["obama"], ids["biden"], ids["obama"]]
    assert all(t == "door.open" for e, t, _ in outbox if e == door.id)
    assert len([1 for e, _, _ in outbox if e == auditor.id]) == len(entries)
    # no picture anywhere: the store's files, the scratch folder, the logs
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".mp4":
            data = path.read_bytes()
            assert JPEG not in data and PNG not in data, path
    assert not list(scratch.iterdir())
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("facegate")]
    assert all(len(m) < 600 for m in logged)
    camera_lines = [json.loads(m) for m in logged if m.startswith('{"event": "camera"')]
    assert [c["state"] for c in camera_lines] == ["started", "stopped"]
    assert not [m for m in logged
                if '"track"' in m or "descriptor" in m or any(i in m for i in ids.values())]


def test_stopping_a_camera_ends_its_session_with_its_counts(
        lobby: tuple[Deployment, dict[str, str]], clip: Path) -> None:
    d, _ = lobby
    d.register_camera(id="lobby-door-2", site="hq.lobby", purposes=[PURPOSE])
    looping = SourceSettings(loop=True)
    first = d.watch(CAMERA, source=str(clip), source_settings=looping, operator="guard:1")
    second = d.watch("lobby-door-2", source=str(clip), source_settings=looping)
    with pytest.raises(Exception) as again:
        d.watch(CAMERA, source=str(clip))
    assert getattr(again.value, "code", "") == "camera.stream_conflict"
    deadline = time.monotonic() + 30
    while first.status().counts.matches < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    states = {s.camera.id: s for s in d.camera_states()}
    assert states[CAMERA].state == "running" and states["lobby-door-2"].state == "running"
    assert "pixels" not in json.dumps(states[CAMERA].as_dict())

    summary = d.stop_camera(CAMERA, operator="guard:2")
    assert summary is not None and summary.why == "stopped"
    assert not second.done  # the other camera goes on
    other = second.stop()
    assert other is not None
    assert first.status().state == "stopped"
    entries = {e.detail["session"]: e for e in d.audit_events("stream-stopped")}
    ended = entries[first.id]
    assert ended.operator == "guard:2" and ended.detail["why"] == "stopped"
    assert ended.detail["counts"] == first.status().counts.as_dict() == summary.counts
    assert ended.detail["counts"]["matches"] >= 1
    assert ended.detail["counts"]["frames"] > 0
    assert entries[second.id].detail["camera"] == "lobby-door-2"
    assert {s.camera.id: s.state for s in d.camera_states()} == {
        CAMERA: "stopped", "lobby-door-2": "stopped"}
    with pytest.raises(Exception) as not_running:
        d.stop_camera(CAMERA)
    assert getattr(not_running.value, "code", "") == "camera.stream_conflict"


def test_a_hit_under_review_opens_a_case_with_the_tracks_shot_sealed_r19(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path,
        sprites: dict[str, Any]) -> None:
    d, ids = lobby
    d.configure_review(purpose=PURPOSE)
    short = encode(render(sprites, [Pass("biden", 0, 0, 20), Pass("rudd", 1, 0, 20, False)],
                          24), tmp_path / "short.mp4")
    session = d.watch(CAMERA, source=str(short))
    assert session.wait(30) and session.summary is not None
    counts = session.summary.counts
    assert counts["reviews"] == 1 and counts["matches"] == 0 and counts["no_matches"] == 1
    (case,) = d.review_cases(purpose=PURPOSE)
    assert case.subject_id == ids["biden"] and case.status == "pending"
    assert not d.audit_events("camera-match")  # no door opens before the review
    opened = d.audit_events("review-cases-opened")[-1]
    assert opened.detail["case_ids"] == [case.id]
    sealed = d.connection.execute("SELECT COUNT(*) FROM review_probes").fetchone()[0]
    assert sealed == 1  # the track's shot, sealed until the decision (R19)


def test_a_purpose_suspended_while_the_camera_runs_stops_it_refused(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path,
        sprites: dict[str, Any]) -> None:
    """The gate is asked again for each track: a purpose suspended meanwhile refuses the
    next decision, which is audited, and the stream ends as refused."""
    d, _ = lobby
    short = encode(render(sprites, [Pass("biden", 0, 4, 24)], 28), tmp_path / "short.mp4")
    session = d.watch(CAMERA, source=str(short), source_settings=SourceSettings(loop=True))
    d.suspend_purpose(PURPOSE)
    assert session.wait(30) and session.summary is not None
    assert session.summary.why == "refused" and session.status().error == "purpose.not_active"
    refusal = d.audit_events("refusal")[-1]
    assert refusal.detail["action"] == "camera-identify" and refusal.purpose_key == PURPOSE
    with pytest.raises(Exception) as again:  # and it cannot start again
        d.watch(CAMERA, source=str(short))
    assert getattr(again.value, "code", "") == "purpose.not_active"


def test_where_a_purpose_requires_liveness_each_track_is_scored_h1(
        lobby: tuple[Deployment, dict[str, str]], tmp_path: Path, sprites: dict[str, Any],
        samples: Path, arcface: Any) -> None:
    """A purpose that requires liveness (H1): each track's shot is scored by the pack's
    passive network before anything is searched. The screen-replay sample (a phone
    showing a face, from the shared liveness samples) is refused and leaves only a
    count; Biden's live-looking photo passes and is decided."""
    d, ids = lobby
    d.update_purpose(PURPOSE, liveness_required=True)  # a change of method: a new PIA
    d.sign_assessment(purpose=PURPOSE, content=demo_assessment(), signed_by="DPO")
    d.activate_purpose(PURPOSE)
    replay = samples / "liveness/silent_face_anti_spoofing/images/sample/image_F2.jpg"
    shown = {**sprites, "replay": sprite(arcface, replay)}
    clip = encode(render(shown, [Pass("biden", 0, 0, 20), Pass("replay", 1, 0, 20, False)],
                         24), tmp_path / "liveness.mp4")
    seq = d.audit_head()
    records: list[DecisionRecord] = []
    session = d.watch(CAMERA, source=str(clip), on_decision=records.append)
    assert session.wait(30) and session.summary is not None
    counts = session.summary.counts
    assert counts["tracks"] == 2 and counts["matches"] == 1
    assert counts["liveness_refused"] == 1 and counts["no_matches"] == 0
    assert [r.subject for r in records if r.outcome is Outcome.MATCH] == [ids["biden"]]
    refused = [r for r in records if r.outcome is Outcome.LIVENESS]
    assert refused and all(r.subject is None for r in refused)
    assert Counter(e.name for e in d.audit_events(after=seq)) == {
        "stream-started": 1, "identification-session-start": 1,
        "identification-session-end": 1, "camera-match": 1, "stream-stopped": 1}


def test_a_camera_running_in_another_process_is_stopped_through_the_store(
        lobby: tuple[Deployment, dict[str, str]], clip: Path, arcface: Any,
        open_deployment: Callable[..., Deployment]) -> None:
    """Two deployments on one store stand for two processes of the service: the one that
    does not run the stream asks, the one that does stops at its next status report and
    records the end with the asker as its operator; meanwhile it cannot start twice."""
    d, _ = lobby
    other = open_deployment(analyzer=arcface)
    session = d.watch(CAMERA, source=str(clip), source_settings=SourceSettings(loop=True))
    with pytest.raises(Exception) as twice:
        other.watch(CAMERA, source=str(clip))
    assert getattr(twice.value, "code", "") == "camera.stream_conflict"
    assert other.stop_camera(CAMERA, operator="guard:3") is None  # asked, not run here
    assert session.wait(15) and session.summary is not None
    assert session.summary.why == "stopped"
    ended = other.audit_events("stream-stopped")[-1]
    assert ended.operator == "guard:3" and ended.detail["session"] == session.id
    assert {s.camera.id: s.state for s in other.camera_states()}[CAMERA] == "stopped"
