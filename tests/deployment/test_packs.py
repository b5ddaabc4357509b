"""Model packs in a deployment: the calibration gate (R21), one pack per gallery, migrations.

Real faces, a real SQLite store. Tests that move a purpose to the
``faceplugin-arcface-v1`` pack skip, saying how to install it, when it is
not installed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.audit.integrity import RowGuard
from facegate.clock import FixedClock
from facegate.comparison import compare_descriptors
from facegate.consent.ledger import current_state
from facegate.demo.governed import demo_assessment, demo_notice
from facegate.deployment import Deployment
from facegate.errors import (
    CalibrationRequired,
    DescriptorMismatch,
    GalleryPackMismatch,
    InvalidArgument,
)
from facegate.fitness.evaluation import evaluate_pack, load_labelled_set
from facegate.jurisdictions import CN_2025
from facegate.matching.service import Verification
from facegate.organisation.repository import get_site
from facegate.policy import gate
from facegate.policy.decision import Operation
from facegate.policy.facts import ProcessingRequest, SubjectFacts
from facegate.templates import service as templates
from facegate.templates.keys import DataKeys

from ..support.asserts import assert_refused
from ..support.engines import pack_engine
from ..support.governed import POPULATION, START, add_purpose, consent, population_evaluation
from ..support.words import alt, both

ACCESS = "access.office.entry"
ATTENDANCE = "hr.attendance"
ARCFACE = "faceplugin-arcface-v1"


#: Every test here that opens a deployment runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def _lfw_pairs(shared: Path, tmp_path: Path, count: int = 20) -> Path:
    """The first ``count`` same-person and ``count`` different-person pairs of pairsDevTrain."""
    lines = (shared / "lfw" / "pairsDevTrain.txt").read_text().splitlines()
    same = [line for line in lines[1:] if len(line.split()) == 3][:count]
    different = [line for line in lines[1:] if len(line.split()) == 4][:count]
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join([f"{count}", *same, *different]) + "\n")
    return path


def test_r21_a_purpose_with_only_an_lfw_calibration_cannot_identify(
        books: Deployment, analyzer: FaceAnalyzer, shared: Path, tmp_path: Path) -> None:
    d = books
    d.register_purpose(key="security.gate", site="hq.lobby", description=both("gate watch"),
                       necessity=both("tailgating"), legal_basis=both("separate consent"),
                       modes=["identify"], alternatives=[alt("guard check")], retention_days=30,
                       pack="dlib-resnet-v1")
    d.publish_notice(purpose="security.gate", content=demo_notice())
    d.sign_assessment(purpose="security.gate", content=demo_assessment(), signed_by="DPO")
    # The shipped threshold is LFW-derived: not enough to identify anyone.
    with pytest.raises(CalibrationRequired) as shipped:
        d.activate_purpose("security.gate")
    assert_refused(shipped.value, "calibration.missing", "R21")
    # A calibration on LFW is still LFW: refused.
    lfw = evaluate_pack(analyzer, load_labelled_set(
        shared / "lfw", pairs_file=_lfw_pairs(shared, tmp_path)), target_fmr=0.1)
    on_lfw = d.record_calibration(purpose="security.gate", evaluation=lfw,
                                  population="LFW View 1 (pairsDevTrain)")
    assert on_lfw.lfw_derived and d.purpose("security.gate").calibration_id == on_lfw.id
    with pytest.raises(CalibrationRequired) as lfw_only:
        d.activate_purpose("security.gate")
    assert "LFW" in lfw_only.value.message
    # Calibrated on the people it serves: it goes live.
    ours = d.record_calibration(purpose="security.gate",
                                evaluation=population_evaluation(analyzer), population=POPULATION)
    assert not ours.lfw_derived
    assert d.activate_purpose("security.gate").threshold == ours.threshold
    # The threshold equals the evaluated one, or identification stops (R21).
    d.update_purpose("security.gate", threshold=ours.threshold + 0.05)
    with pytest.raises(CalibrationRequired):
        d.identify(purpose="security.gate", image=np_photo(shared))
    card = d.model_card("security.gate")
    assert not card["threshold_is_evaluated"] and card["calibration"]["id"] == ours.id
    events = [e for e in d.audit_events() if e.name == "calibration-recorded"]
    assert [e.detail["calibration"] for e in events][-2:] == [on_lfw.id, ours.id]


def np_photo(shared: Path) -> Path:
    return shared / "samples" / "identity/face_recognition/examples/obama2.jpg"


def test_r21_a_verification_purpose_only_warns(
        open_deployment: Callable[..., Deployment], analyzer: FaceAnalyzer) -> None:
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="9131")
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ATTENDANCE, modes=("verify",))
    warnings = [e for e in d.audit_events() if e.name == "warning"]
    assert [(e.rule, e.outcome) for e in warnings] == [("R21", "calibration.missing")]
    assert d.activation_warnings(ATTENDANCE) and d.model_card(ATTENDANCE)["warnings"]
    d.record_calibration(purpose=ATTENDANCE, evaluation=population_evaluation(analyzer),
                         population=POPULATION)
    assert d.activation_warnings(ATTENDANCE) == []
    card = d.model_card(ATTENDANCE)
    assert card["population_calibrated"] and card["threshold_is_evaluated"]
    assert card["calibration"]["fmr"]["ci95"][0] <= card["calibration"]["fmr"]["value"]


def test_candidates_carry_the_false_match_rate_of_their_score(
        books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    found = d.identify(purpose=ACCESS, image=faces["obama2"])
    (candidate,) = found.candidates
    calibration = d.calibrations(ACCESS)[-1]
    assert candidate.pack == "dlib-resnet-v1"
    rate = candidate.fmr
    assert rate is not None and rate.calibration == f"calibration {calibration.id}"
    observed = calibration.fmr_at(candidate.distance)
    assert rate.false_matches / rate.pairs == observed <= calibration.target_fmr + 1e-12
    # never a bare 0: with no false match observed, the interval's upper bound, said so
    assert rate.value > 0 and rate.low <= observed <= rate.high
    assert rate.upper_bound is (observed == 0)
    assert ("<" in rate.describe()) is rate.upper_bound


def test_a_gallery_refuses_a_template_of_another_pack(books: Deployment,
                                                      faces: dict[str, Path]) -> None:
    other = FaceAnalyzer(pack_engine(ARCFACE))
    d = books
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    purpose = d.purpose(ACCESS)
    live = current_state(e for e in d.consents(alice.id) if e.purpose_key == ACCESS)
    grant = gate.require(ProcessingRequest(
        operation=Operation.ENROLL, profile=CN_2025, purpose_key=ACCESS, purpose=purpose,
        site=get_site(d.connection, key=purpose.site_key), notice_version=1,
        assessment_current=True, now=START,
        subject=SubjectFacts(id=alice.id, minor=False, consent=live,
                             transfer_consent=d.central_store),
        central_store=d.central_store))
    keys = DataKeys(d.connection, ring=d.key_ring, now=START,
                    guard=RowGuard(d.connection, d.row_mac))
    with pytest.raises(GalleryPackMismatch) as info:
        templates.enroll(grant, conn=d.connection, keys=keys, analyzer=other,
                         image=faces["obama"], purpose=purpose, subject_id=alice.id,
                         now=START, consent_seq=None)
    assert info.value.code == "gallery.pack_mismatch"
    assert d.template_count(purpose=ACCESS) == 0
    # And descriptors of two packs are never compared.
    a = other.embed_single(faces["obama"]).descriptor
    b = d.analyzer.embed_single(faces["obama"]).descriptor
    assert a is not None and b is not None
    with pytest.raises(DescriptorMismatch):
        compare_descriptors(a, b)


def test_switching_packs_runs_the_migration_path(books: Deployment, clock: FixedClock,
                                                 faces: dict[str, Path]) -> None:
    arcface = FaceAnalyzer(pack_engine(ARCFACE))
    d = books
    alice, bob = d.register_subject(age_band="adult"), d.register_subject(age_band="adult")
    for s, photo in ((alice, "obama"), (bob, "biden")):
        consent(d, s.id, ACCESS)
        d.enroll(subject=s.id, purpose=ACCESS, image=faces[photo])
    started = d.begin_pack_migration(purpose=ACCESS, pack=ARCFACE, window_days=30)
    assert (started.subjects_moved, started.subjects_pending) == (0, 2)
    with pytest.raises(InvalidArgument):
        d.begin_pack_migration(purpose=ACCESS, pack=ARCFACE, window_days=30)
    # Identification with the next pack waits for its own population calibration (R21).
    with pytest.raises(CalibrationRequired):
        d.identify(purpose=ACCESS, image=faces["obama2"])
    d.record_calibration(purpose=ACCESS, evaluation=population_evaluation(arcface),
                         population=POPULATION)
    # During the window both packs' templates answer, each with its own threshold.
    old = d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    assert isinstance(old, Verification) and old.matched and old.pack == "dlib-resnet-v1"
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])  # re-enrolls: new pack
    new = d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    assert isinstance(new, Verification) and new.matched and new.templates == 2
    found = d.identify(purpose=ACCESS, image=faces["biden"])
    assert [c.subject_id for c in found.candidates] == [bob.id]
    assert found.candidates[0].pack == "dlib-resnet-v1"
    status = d.pack_migration(ACCESS)
    assert (status.subjects_moved, status.subjects_pending) == (1, 1)
    # The end: old templates erased, the next pack becomes the purpose's pack.
    done = d.finish_pack_migration(purpose=ACCESS)
    assert done.templates_erased == 2 and done.subjects_pending == 1
    purpose = d.purpose(ACCESS)
    assert purpose.pack == ARCFACE and purpose.next_pack is None
    assert purpose.threshold == d.calibrations(ACCESS)[-1].threshold
    still = d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    assert isinstance(still, Verification) and still.matched and still.pack == ARCFACE
    gone = d.verify(subject=bob.id, purpose=ACCESS, image=faces["biden"])
    assert isinstance(gone, Verification) and not gone.matched and gone.templates == 0
    assert d.identify(purpose=ACCESS, image=faces["biden"]).no_match
    names = [e.name for e in d.audit_events()]
    assert "pack-migration-started" in names and "pack-migration-finished" in names
    assert d.verify_audit().entries == len(names)


def test_after_the_window_only_the_next_pack_answers(books: Deployment, clock: FixedClock,
                                                     faces: dict[str, Path]) -> None:
    pack_engine(ARCFACE)  # skips when the pack is not installed
    d = books
    bob = d.register_subject(age_band="adult")
    consent(d, bob.id, ATTENDANCE)
    d.enroll(subject=bob.id, purpose=ATTENDANCE, image=faces["biden"])
    d.begin_pack_migration(purpose=ATTENDANCE, pack=ARCFACE, window_days=7)
    inside = d.verify(subject=bob.id, purpose=ATTENDANCE, image=faces["biden"])
    assert isinstance(inside, Verification) and inside.matched
    clock.advance(timedelta(days=8))
    after = d.verify(subject=bob.id, purpose=ATTENDANCE, image=faces["biden"])
    assert isinstance(after, Verification) and not after.matched and after.templates == 0
    assert dataclasses.asdict(d.pack_migration(ATTENDANCE))["subjects_pending"] == 1
