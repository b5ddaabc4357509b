"""Matching you can trust, on real faces and real SQLite files (R19, R20).

A stranger gets ``no_match``; every face of a probe is answered; a purpose
configured for review turns hits into cases that need the profile's number of
distinct authorised reviewers; an unconfirmed case cannot be acted on; the
sealed probe image is gone after the decision and after the deadline; each
identification session is in the audit log with its gallery, probe and
reviewers; erasure takes the subject out of the index and the cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import (
    InvalidArgument,
    ReviewCaseClosed,
    ReviewerNotAuthorised,
    ReviewerRepeated,
    ReviewImagesClosed,
    ReviewNotConfirmed,
)

from ..support.asserts import assert_refused
from ..support.governed import add_purpose, consent
from ..support.storage import files_on_disk, windows
from ..support.words import both

JPEG = b"\xff\xd8\xff"

WATCH = "access.lab.entry"
EU = "eu-gdpr-ai-act"


#: Every test here that opens a deployment runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def _deployment(open_deployment: Callable[..., Deployment], jurisdiction: str,
                name: str = "facegate.db") -> Deployment:
    d = open_deployment(name)
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction=jurisdiction,
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, WATCH)
    return d


def _enroll(d: Deployment, faces: dict[str, Path], *names: str) -> dict[str, str]:
    ids = {}
    for name in names:
        s = d.register_subject(age_band="adult")
        consent(d, s.id, WATCH, method="written")
        d.enroll(subject=s.id, purpose=WATCH, image=faces[name])
        ids[name] = s.id
    return ids


@pytest.fixture
def eu(open_deployment: Callable[..., Deployment], faces: dict[str, Path]) -> Deployment:
    """An EU deployment (two reviewers) whose purpose is under review; obama and biden
    enrolled; reviewers rev-a and rev-b authorised, rev-x not."""
    d = _deployment(open_deployment, EU)
    d.configure_review(purpose=WATCH, window=timedelta(hours=2))
    for reviewer in ("rev-a", "rev-b"):
        d.authorise_reviewer(purpose=WATCH, reviewer=reviewer)
    _enroll(d, faces, "obama", "biden")
    return d


def _one_case(d: Deployment, image: Path) -> str:
    result = d.identify(purpose=WATCH, image=image)
    (candidate,) = result.candidates
    assert candidate.review_case is not None
    return candidate.review_case


def _probe_rows(d: Deployment) -> int:
    return int(d.connection.execute("SELECT count(*) FROM review_probes").fetchone()[0])


def test_r19_a_stranger_gets_no_match(open_deployment: Callable[..., Deployment],
                                      faces: dict[str, Path]) -> None:
    d = _deployment(open_deployment, "cn-2025")
    ids = _enroll(d, faces, "obama", "biden")
    stranger = d.identify(purpose=WATCH, image=faces["lennon1"])
    assert stranger.no_match and stranger.candidates == ()
    assert [f.no_match for f in stranger.faces] == [True]
    known = d.identify(purpose=WATCH, image=faces["obama2"])
    assert [c.subject_id for c in known.candidates] == [ids["obama"]]
    c = known.candidates[0]
    assert c.distance <= (known.threshold or 0) and c.similarity == pytest.approx(
        1 - c.distance ** 2 / 2)


def test_r19_every_face_of_a_probe_is_answered(open_deployment: Callable[..., Deployment],
                                               faces: dict[str, Path], samples: Path) -> None:
    d = _deployment(open_deployment, "cn-2025")
    ids = _enroll(d, faces, "obama", "biden")
    both = d.identify(purpose=WATCH,
                      image=samples / "identity/face_recognition/examples/two_people.jpg")
    assert len(both.faces) == 2
    found = {c.subject_id for f in both.faces for c in f.candidates}
    assert found == {ids["obama"], ids["biden"]}
    assert all(len(f.candidates) == 1 for f in both.faces)


def test_r19_two_reviewers_needed_and_the_same_reviewer_twice_is_refused(
        eu: Deployment, faces: dict[str, Path]) -> None:
    case = _one_case(eu, faces["obama2"])
    one = eu.confirm_case(case, reviewer="rev-a", reason="same face, same scar")
    assert (one.status, one.confirmations, one.reviewers_required) == ("pending", 1, 2)
    with pytest.raises(ReviewerRepeated) as repeated:
        eu.confirm_case(case, reviewer="rev-a", reason="still sure")
    assert_refused(repeated.value, "review.same_reviewer", "R19", EU)
    assert repeated.value.details["article"] == "AI Act Art. 14(5)"
    with pytest.raises(ReviewerNotAuthorised):
        eu.confirm_case(case, reviewer="rev-x", reason="looks like him")
    assert eu.review_case(case).status == "pending"
    two = eu.confirm_case(case, reviewer="rev-b", reason="agree")
    assert (two.status, two.reviewers) == ("confirmed", ("rev-a", "rev-b"))
    assert [d.reason for d in two.decisions] == ["same face, same scar", "agree"]
    assert two.decided_at is not None


def test_r19_a_deployer_may_ask_for_more_reviewers_never_fewer(
        open_deployment: Callable[..., Deployment], faces: dict[str, Path]) -> None:
    """Under cn-2025 one confirmation is the least; a deployer asking for two gets two, in
    its cases, its audit entry and its notice. Under the AI Act one is refused."""
    cn = _deployment(open_deployment, "cn-2025")
    settings = cn.configure_review(purpose=WATCH, reviewers=2)
    assert settings.reviewers == 2
    assert cn.review_settings(WATCH) == settings
    for reviewer in ("rev-a", "rev-b"):
        cn.authorise_reviewer(purpose=WATCH, reviewer=reviewer)
    _enroll(cn, faces, "obama")
    case = _one_case(cn, faces["obama2"])
    assert cn.confirm_case(case, reviewer="rev-a", reason="same face").status == "pending"
    assert cn.confirm_case(case, reviewer="rev-b", reason="agree").status == "confirmed"
    (configured,) = [e for e in cn.audit_events() if e.name == "review-configured"]
    assert configured.detail["reviewers_required"] == 2
    for lang, words in (("en", "confirmed by 2 different authorised reviewers"),
                        ("zh", "须经 2 名不同的授权复核人员")):
        notice = cn.report("notice", purpose=WATCH, lang=lang, fmt="html")
        assert words in notice.content.decode("utf-8")
    with pytest.raises(InvalidArgument) as fewer:
        _deployment(open_deployment, EU, "eu.db").configure_review(purpose=WATCH, reviewers=1)
    assert fewer.value.details == {"rule": "R19", "reviewers": 1, "minimum": 2, "maximum": 5}


def test_r19_an_unconfirmed_case_cannot_be_acted_on(eu: Deployment,
                                                     faces: dict[str, Path]) -> None:
    case = _one_case(eu, faces["obama2"])
    with pytest.raises(ReviewNotConfirmed) as pending:
        eu.act_on_case(case, action="open-door")
    assert_refused(pending.value, "review.not_confirmed", "R19", EU)
    eu.confirm_case(case, reviewer="rev-a", reason="match")
    with pytest.raises(ReviewNotConfirmed):
        eu.act_on_case(case, action="open-door")
    eu.confirm_case(case, reviewer="rev-b", reason="match")
    assert eu.act_on_case(case, action="open-door").status == "confirmed"
    rejected = _one_case(eu, faces["biden"])
    eu.reject_case(rejected, reviewer="rev-b", reason="different ear shape")
    with pytest.raises(ReviewNotConfirmed):
        eu.act_on_case(rejected, action="open-door")
    with pytest.raises(ReviewCaseClosed):
        eu.confirm_case(rejected, reviewer="rev-a", reason="late")
    refusals = [e for e in eu.audit_events("refusal") if e.rule == "R19"]
    assert [e.outcome for e in refusals] == ["review.not_confirmed"] * 3
    assert [e.detail["action"] for e in eu.audit_events("act-on-hit")] == ["open-door"]


def test_r19_the_probe_image_is_gone_after_the_decision(eu: Deployment, tmp_path: Path,
                                                         faces: dict[str, Path]) -> None:
    case = _one_case(eu, faces["obama2"])
    assert _probe_rows(eu) == 1
    jpeg = eu.review_face(case, reviewer="rev-a")
    assert jpeg.startswith(JPEG)
    for name, data in files_on_disk(tmp_path).items():  # the face made in memory only
        assert not any(w in data for w in windows(jpeg[64:])), name
    eu.rotate_keys()  # the probe's key is re-wrapped with the subjects' data keys
    assert eu.review_face(case, reviewer="rev-b") == jpeg
    eu.confirm_case(case, reviewer="rev-a", reason="match")
    assert _probe_rows(eu) == 1  # still needed by the second reviewer
    eu.confirm_case(case, reviewer="rev-b", reason="match")
    assert _probe_rows(eu) == 0
    with pytest.raises(ReviewImagesClosed):
        eu.review_face(case, reviewer="rev-a")
    refusal = eu.audit_events("refusal")[-1]
    assert (refusal.outcome, refusal.rule) == ("review.images_closed", "R19")
    assert [e.detail["image"] for e in eu.audit_events("review-face-viewed")] == ["probe"] * 2


def test_r19_the_probe_image_is_gone_after_the_deadline(eu: Deployment, clock: FixedClock,
                                                         faces: dict[str, Path]) -> None:
    case = _one_case(eu, faces["obama2"])
    clock.advance(timedelta(hours=1, minutes=59))
    assert eu.review_case(case).status == "pending" and _probe_rows(eu) == 1
    clock.advance(timedelta(minutes=1))
    assert eu.expire_reviews() == 1
    assert _probe_rows(eu) == 0
    assert eu.review_case(case).status == "expired"
    with pytest.raises(ReviewCaseClosed):
        eu.confirm_case(case, reviewer="rev-a", reason="too late")
    with pytest.raises(ReviewNotConfirmed):
        eu.act_on_case(case, action="open-door")


def test_r20_each_identification_session_is_logged(eu: Deployment,
                                                   faces: dict[str, Path]) -> None:
    result = eu.identify(purpose=WATCH, image=faces["obama2"])
    case = result.candidates[0].review_case
    assert case is not None and result.session_id and result.probe_ref
    (start,) = eu.audit_events("identification-session-start")
    assert start.detail["session"] == result.session_id
    assert start.detail["gallery"] == f"{WATCH}/dlib-resnet-v1@1.0"
    assert start.detail["probe"] == result.probe_ref
    assert not eu.audit_events("identification-session-end")  # open until reviewed
    eu.confirm_case(case, reviewer="rev-b", reason="match")
    eu.confirm_case(case, reviewer="rev-a", reason="match")
    (end,) = eu.audit_events("identification-session-end")
    assert (end.detail["session"], end.detail["gallery"], end.detail["probe"]) == (
        result.session_id, start.detail["gallery"], result.probe_ref)
    assert end.detail["reviewers"] == ["rev-a", "rev-b"]
    assert end.detail["probe_image_erased"] is True
    assert end.at >= start.at and end.detail["started_at"] == start.at.isoformat()
    eu.verify_audit()


def test_r19_r23_erasure_removes_the_subject_from_the_index_and_the_cases(
        eu: Deployment, faces: dict[str, Path]) -> None:
    obama = eu.identify(purpose=WATCH, image=faces["obama2"]).candidates[0]
    assert obama.review_case is not None
    assert len(eu.review_cases(status="pending")) == 1
    held = eu.access_report(obama.subject_id).review_cases
    assert [(c["case"], c["status"]) for c in held] == [(obama.review_case, "pending")]
    eu.erase_subject(obama.subject_id)
    assert eu.identify(purpose=WATCH, image=faces["obama2"]).no_match
    assert all(c.subject_id != obama.subject_id for c in eu.review_cases())
    assert _probe_rows(eu) == 0
    assert eu.identify(purpose=WATCH, image=faces["biden"]).candidates


def test_r4_withdrawal_and_enrollment_keep_the_index_current(
        open_deployment: Callable[..., Deployment], faces: dict[str, Path]) -> None:
    d = _deployment(open_deployment, "cn-2025")
    ids = _enroll(d, faces, "obama")
    assert d.identify(purpose=WATCH, image=faces["biden"]).no_match  # index built now
    biden = _enroll(d, faces, "biden")["biden"]
    assert [c.subject_id for c in d.identify(purpose=WATCH, image=faces["biden"]).candidates] \
        == [biden]
    d.withdraw_consent(subject=ids["obama"], purpose=WATCH)
    assert d.identify(purpose=WATCH, image=faces["obama2"]).no_match
