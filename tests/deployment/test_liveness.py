"""Liveness through the library: challenges usable once, expiry, audit, and rule H1.

No genuine answer to a challenge exists here (the one genuine video shows no
asked actions), so the receipt tests put a receipt in the store directly, as
a passed check would, and test how enroll and verify consume it. Answers sent
as video files are written here with PyAV from a still photo.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import (
    ChallengeExpired,
    ChallengeUnknown,
    ChallengeUsed,
    InvalidArgument,
    LivenessFailed,
    LivenessRequired,
    VideoUndecodable,
)
from facegate.images import load_image
from facegate.liveness.challenges import RECEIPT_TTL, insert_receipt, new_receipt
from facegate.liveness.frames import Frame
from facegate.storage.db import transaction

from ..support.governed import add_purpose, consent
from ..support.video import NO_AV, write_video

#: Every test here that opens a deployment runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def _still(photo: Path, n: int = 5) -> list[Frame]:
    return [Frame(at=i / 10, image=photo) for i in range(n)]


def test_a_replayed_answer_with_a_used_nonce_is_refused(books: Deployment,
                                                        faces: dict[str, Path]) -> None:
    challenge = books.liveness_challenge(purpose="access.office.entry", rng=random.Random(1))
    with pytest.raises(LivenessFailed) as failed:
        books.check_liveness(challenge=challenge.id, nonce=challenge.nonce,
                             frames=_still(faces["obama"]), passive=False)
    assert failed.value.details["passed"] is False
    assert any(r.startswith("planar:") for r in failed.value.details["reasons"])
    with pytest.raises(ChallengeUsed):
        books.check_liveness(challenge=challenge.id, nonce=challenge.nonce,
                             frames=_still(faces["obama"]), passive=False)
    checks = books.audit_events("liveness-check")
    assert [e.outcome for e in checks] == ["failed"]
    assert checks[0].detail["scores"]["planar_residual"] == 0.0
    assert checks[0].detail["actions_asked"] == [a.value for a in challenge.actions]
    refusals = books.audit_events("liveness-refusal")
    assert [e.outcome for e in refusals] == ["liveness.challenge_used"]


def test_an_expired_challenge_is_refused(books: Deployment, clock: FixedClock,
                                         faces: dict[str, Path]) -> None:
    challenge = books.liveness_challenge(purpose="access.office.entry")
    clock.advance(timedelta(seconds=31))
    with pytest.raises(ChallengeExpired):
        books.check_liveness(challenge=challenge.id, frames=_still(faces["obama"]))
    assert [e.outcome for e in books.audit_events("liveness-refusal")] == [
        "liveness.challenge_expired"]


def test_an_unknown_challenge_or_a_wrong_nonce_is_refused(books: Deployment,
                                                          faces: dict[str, Path]) -> None:
    with pytest.raises(ChallengeUnknown):
        books.check_liveness(challenge="lc_0000000000000000", frames=_still(faces["obama"]))
    challenge = books.liveness_challenge(purpose="hr.attendance")
    with pytest.raises(ChallengeUnknown):
        books.check_liveness(challenge=challenge.id, nonce="0" * 32,
                             frames=_still(faces["obama"]))


def _still_video(photo: Path, path: Path, n: int = 8) -> Path:
    """A video of a still photo (cropped to even sides, as the encoder needs)."""
    pytest.importorskip("av", reason=NO_AV)
    pixels = load_image(photo).pixels
    h, w = pixels.shape[0] // 2 * 2, pixels.shape[1] // 2 * 2
    return write_video(path, [pixels[:h, :w]] * n)


def test_an_answer_sent_as_a_video_is_decoded_and_judged(
        books: Deployment, faces: dict[str, Path], tmp_path: Path) -> None:
    video = _still_video(faces["obama"], tmp_path / "answer.mp4")
    challenge = books.liveness_challenge(purpose="access.office.entry")
    with pytest.raises(InvalidArgument):
        books.check_liveness(challenge=challenge.id, video=video, frames=_still(faces["obama"]))
    with pytest.raises(InvalidArgument):
        books.check_liveness(challenge=challenge.id)
    with pytest.raises(LivenessFailed) as failed:
        books.check_liveness(challenge=challenge.id, nonce=challenge.nonce,
                             video=video.read_bytes(), passive=False)
    scores = failed.value.details["scores"]
    assert scores["frames"] == 8 and scores["faces"] == 8 and scores["duration_s"] == 0.7
    assert any(r.startswith("planar:") for r in failed.value.details["reasons"])
    assert [e.outcome for e in books.audit_events("liveness-check")] == ["failed"]


def test_an_undecodable_video_uses_up_the_challenge_and_is_audited(
        books: Deployment, tmp_path: Path) -> None:
    pytest.importorskip("av", reason=NO_AV)
    challenge = books.liveness_challenge(purpose="access.office.entry")
    with pytest.raises(VideoUndecodable):
        books.check_liveness(challenge=challenge.id, video=b"\x00" * 2048)
    refusals = books.audit_events("liveness-refusal")
    assert [e.outcome for e in refusals] == ["video.undecodable"]
    assert refusals[0].detail["challenge"] == challenge.id
    with pytest.raises(ChallengeUsed):
        books.check_liveness(challenge=challenge.id, video=b"\x00" * 2048)


def _receipt(d: Deployment, purpose: str) -> str:
    """A receipt in the store, as a passed check leaves one."""
    challenge = d.liveness_challenge(purpose=purpose)
    receipt = new_receipt(challenge, now=challenge.issued_at)
    with transaction(d.connection):
        insert_receipt(d.connection, receipt=receipt)
    return receipt.id


def test_h1_a_purpose_requiring_liveness_enrolls_and_verifies_only_with_a_fresh_receipt(
        books: Deployment, clock: FixedClock, faces: dict[str, Path]) -> None:
    add_purpose(books, "bank.counter", modes=("verify",), liveness_required=True)
    alice = books.register_subject(external_ref="alice", age_band="adult").id
    consent(books, alice, "bank.counter")
    with pytest.raises(LivenessRequired) as refused:
        books.enroll(subject=alice, purpose="bank.counter", image=faces["obama"])
    assert refused.value.rule == "H1"
    assert books.template_count(purpose="bank.counter") == 0
    books.enroll(subject=alice, purpose="bank.counter", image=faces["obama"],
                 liveness=_receipt(books, "bank.counter"))
    assert books.template_count(purpose="bank.counter") == 1

    used = _receipt(books, "bank.counter")
    books.verify(subject=alice, purpose="bank.counter", image=faces["obama2"], liveness=used)
    with pytest.raises(LivenessRequired, match="already used"):
        books.verify(subject=alice, purpose="bank.counter", image=faces["obama2"], liveness=used)
    late = _receipt(books, "bank.counter")
    clock.advance(RECEIPT_TTL + timedelta(seconds=1))
    with pytest.raises(LivenessRequired, match="expired"):
        books.verify(subject=alice, purpose="bank.counter", image=faces["obama2"], liveness=late)
    with pytest.raises(LivenessRequired, match="another purpose"):
        books.verify(subject=alice, purpose="bank.counter", image=faces["obama2"],
                     liveness=_receipt(books, "access.office.entry"))
    refusals = [e for e in books.audit_events("refusal") if e.rule == "H1"]
    assert len(refusals) == 4
    assert len(books.audit_events("liveness-receipt-used")) == 2


def test_liveness_through_the_cli(books: Deployment, tmp_path: Path, analyzer: FaceAnalyzer,
                                  faces: dict[str, Path], store_backend: str) -> None:
    db = books.location  # the SQLite file, or the PostgreSQL URL (central mode)
    runner = CliRunner(env={"FACEGATE_KEYS": str(tmp_path / "facegate.db.keys")})
    issued = runner.invoke(cli, ["liveness", "challenge", "--db", db, "--purpose",
                                 "access.office.entry"], obj={"analyzer": analyzer})
    assert issued.exit_code == 0, issued.output
    challenge = json.loads(issued.output)
    assert challenge["purpose"] == "access.office.entry" and 2 <= len(challenge["actions"]) <= 3
    frames = [str(faces["obama"])] * 5
    checked = runner.invoke(cli, ["liveness", "check", "--db", db, "--challenge",
                                  challenge["challenge"], *frames], obj={"analyzer": analyzer})
    assert checked.exit_code == 1
    assert checked.output.startswith("facegate: liveness.failed: liveness check failed: ")
    again = runner.invoke(cli, ["liveness", "check", "--db", db, "--challenge",
                                challenge["challenge"], *frames], obj={"analyzer": analyzer})
    assert again.exit_code == 1 and "liveness.challenge_used" in again.output


def test_liveness_through_the_cli_with_a_video_file(
        books: Deployment, tmp_path: Path, analyzer: FaceAnalyzer,
        faces: dict[str, Path]) -> None:
    video = _still_video(faces["obama"], tmp_path / "answer.webm")
    db = books.location  # the SQLite file, or the PostgreSQL URL (central mode)
    runner = CliRunner(env={"FACEGATE_KEYS": str(tmp_path / "facegate.db.keys")})
    issued = runner.invoke(cli, ["liveness", "challenge", "--db", db, "--purpose",
                                 "access.office.entry"], obj={"analyzer": analyzer})
    challenge = json.loads(issued.output)
    checked = runner.invoke(cli, ["liveness", "check", "--db", db, "--challenge",
                                  challenge["challenge"], "--nonce", challenge["nonce"],
                                  str(video)], obj={"analyzer": analyzer})
    assert checked.exit_code == 1
    assert checked.output.startswith("facegate: liveness.failed: liveness check failed: ")
    assert "planar:" in checked.output
