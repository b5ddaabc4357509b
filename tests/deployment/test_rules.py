"""One test per rule in scope, on a real store with real faces: refusal and allowed path.

R11 lives in ``tests/policy/test_permitted_analysers.py``, R17/R18 in ``tests/filing/``, R24 in
``tests/fitness/test_research.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.audit.integrity import RowGuard
from facegate.clock import FixedClock
from facegate.consent.alternatives import AlternativeRoute
from facegate.demo.governed import DEMO_THRESHOLD, demo_assessment, demo_notice
from facegate.deployment import Deployment
from facegate.errors import (
    AlternativeRequired,
    AlternativeUnavailable,
    AssessmentRequired,
    AssessmentRetained,
    CalibrationRequired,
    ConsentInvalid,
    ConsentRequired,
    CrossPurposeGallery,
    GuardianConsentRequired,
    InvalidArgument,
    ModeNotAllowed,
    NoticeIncomplete,
    PrivateSpaceForbidden,
    PublicPlaceRequirements,
    PurposeIncomplete,
    PurposeNotActive,
    PurposeNotRegistered,
    RetentionTooLong,
    TransferNotPermitted,
)
from facegate.matching.service import Verification
from facegate.storage.db import transaction
from facegate.templates.keys import DataKeys
from facegate.templates.store import insert_templates, list_templates

from ..support.asserts import assert_refused
from ..support.engines import CountingEngine
from ..support.governed import POPULATION, add_purpose, consent, population_evaluation
from ..support.words import alt, both

ACCESS = "access.office.entry"
ATTENDANCE = "hr.attendance"


#: Every test here that opens a deployment runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def _verification(result: Verification | AlternativeRoute) -> Verification:
    assert isinstance(result, Verification)
    return result


def test_r1_every_operation_names_a_registered_purpose(
        books: Deployment, faces: dict[str, Path], analyzer: FaceAnalyzer,
        open_deployment: Callable[..., Deployment], tmp_path: Path) -> None:
    counting = CountingEngine(analyzer.engine)
    d = open_deployment(analyzer=FaceAnalyzer(counting))
    alice = d.register_subject(age_band="adult")
    missing_image = tmp_path / "never-read.jpg"
    for purpose in (None, "no.such.purpose"):
        with pytest.raises(PurposeNotRegistered) as exc:
            d.enroll(subject=alice.id, purpose=purpose, image=missing_image)
        assert_refused(exc.value, "purpose.not_registered", "R1")
        with pytest.raises(PurposeNotRegistered):
            d.identify(purpose=purpose, image=missing_image)
    assert sum(counting.calls.values()) == 0  # refused before any image was read
    assert d.template_count(purpose=ACCESS) == 0
    # A verify-only purpose refuses identification (Art. 19 split of 1:1 and 1:N).
    with pytest.raises(ModeNotAllowed) as mode:
        d.identify(purpose=ATTENDANCE, image=missing_image)
    assert_refused(mode.value, "purpose.mode_not_allowed", "R1")
    # A purpose must state its necessity.
    with pytest.raises(PurposeIncomplete) as incomplete:
        d.register_purpose(key="access.gym", site="hq.lobby", description=both("gym"),
                           necessity=" ", legal_basis=both("consent"), modes=["verify"],
                           alternatives=[alt("card")], retention_days=30)
    assert_refused(incomplete.value, "purpose.incomplete", "R1")
    # Allowed: a registered, active purpose with consent.
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert counting.calls["embed"] == 1
    assert _verification(d.verify(subject=alice.id, purpose=ACCESS,
                                  image=faces["obama2"])).matched
    refusals = d.audit_events("refusal")
    assert {e.rule for e in refusals} == {"R1"}


def test_r2_consent_is_per_purpose(books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    with pytest.raises(ConsentRequired) as none:
        d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert_refused(none.value, "consent.missing", "R2")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    with pytest.raises(ConsentRequired) as other:
        d.verify(subject=alice.id, purpose=ATTENDANCE, image=faces["obama2"])
    assert_refused(other.value, "consent.missing", "R2")
    assert other.value.citation() == "R2 cn-2025 Art. 6"
    # One purpose's gallery never serves another purpose.
    with pytest.raises(CrossPurposeGallery) as cross:
        d.identify(purpose=ACCESS, image=faces["obama2"], gallery=ATTENDANCE)
    assert_refused(cross.value, "gallery.cross_purpose", "R2")
    # Allowed: the consented purpose, 1:1 and 1:N.
    assert _verification(d.verify(subject=alice.id, purpose=ACCESS,
                                  image=faces["obama2"])).matched
    found = d.identify(purpose=ACCESS, image=faces["obama2"])
    assert [c.subject_id for c in found.candidates] == [alice.id]


def test_r3_consent_is_separate_and_tied_to_the_current_notice(books: Deployment) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    with pytest.raises(ConsentInvalid) as bundled:
        d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=1,
                         method="on_screen", separate=False)
    assert_refused(bundled.value, "consent.invalid", "R3")
    with pytest.raises(ConsentInvalid) as no_notice:
        d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=None,
                         method="written")
    assert_refused(no_notice.value, "consent.invalid", "R3")
    d.publish_notice(purpose=ACCESS, content=demo_notice())
    with pytest.raises(ConsentInvalid) as stale:
        d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=1, method="written")
    assert_refused(stale.value, "consent.invalid", "R3")
    assert d.consents(alice.id) == []
    # Allowed: separate, against the notice actually shown (v2).
    event = d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=2,
                             method="written")
    assert (event.separate, event.notice_version, event.method) == (True, 2, "written")
    assert [e.seq for e in d.consents(alice.id)] == [event.seq]


def test_r4_withdrawal_refuses_and_deletes_templates(books: Deployment, clock: FixedClock,
                                                     faces: dict[str, Path]) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    bob = d.register_subject(age_band="adult")
    for subject, photo in ((alice, "obama"), (bob, "biden")):
        consent(d, subject.id, ACCESS)
        d.enroll(subject=subject.id, purpose=ACCESS, image=faces[photo])
    assert _verification(d.verify(subject=alice.id, purpose=ACCESS,
                                  image=faces["obama2"])).matched
    keys = DataKeys(d.connection, ring=d.key_ring, now=clock.now(),
                    guard=RowGuard(d.connection, d.row_mac))
    (stored,) = list_templates(d.connection, keys=keys, purpose_key=ACCESS, subject_id=alice.id,
                               now=clock.now())
    backup = stored.descriptor
    receipt = d.withdraw_consent(subject=alice.id, purpose=ACCESS)
    assert receipt.templates_deleted == 1
    assert d.template_count(purpose=ACCESS, subject=alice.id) == 0
    with pytest.raises(ConsentRequired) as exc:
        d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    assert_refused(exc.value, "consent.withdrawn", "R4")
    with pytest.raises(ConsentRequired):
        d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    # The subject can no longer be matched; the rest of the gallery still can.
    assert d.identify(purpose=ACCESS, image=faces["obama2"]).no_match
    assert d.identify(purpose=ACCESS, image=faces["biden"]).candidates[0].subject_id == bob.id
    # Even a copy of her template that survived (say, restored from a backup) never matches.
    with transaction(d.connection):
        insert_templates(d.connection, keys=keys, rows=[(alice.id, ACCESS, "hq.lobby", backup,
                                              clock.now(), clock.now() + timedelta(days=9))])
    assert d.identify(purpose=ACCESS, image=faces["obama2"]).no_match
    assert d.audit_events("refusal")[-1].outcome == "consent.withdrawn"
    with transaction(d.connection):
        keys.guard.delete("templates", "subject_id = ?", (alice.id,))
    # The ledger keeps both events; a new consent makes enrollment possible again.
    assert [e.kind for e in d.consents(alice.id)
            if e.scope == "biometric"] == ["granted", "withdrawn"]
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert d.template_count(purpose=ACCESS, subject=alice.id) == 1


def test_r5_children_need_a_named_guardian(books: Deployment, clock: FixedClock,
                                            faces: dict[str, Path]) -> None:
    d = books
    today = clock.now().date()
    child = d.register_subject(birth_date=date(today.year - 13, 1, 1))
    with pytest.raises(GuardianConsentRequired) as exc:
        d.record_consent(subject=child.id, purpose=ACCESS, notice_version=1, method="written")
    assert_refused(exc.value, "consent.guardian_missing", "R5")
    with pytest.raises(ConsentRequired):
        d.enroll(subject=child.id, purpose=ACCESS, image=faces["lennon1"])
    # Allowed: the guardian consents and is named.
    event = d.record_consent(subject=child.id, purpose=ACCESS, notice_version=1,
                             method="written", guardian="Wang Fang", guardian_relation="mother")
    assert (event.given_by, event.guardian_name) == ("guardian", "Wang Fang")
    if d.central_store:  # and, for a central store, to the transfer (R8)
        d.record_consent(subject=child.id, purpose=ACCESS, notice_version=1, method="written",
                         guardian="Wang Fang", guardian_relation="mother", scope="transfer")
    d.enroll(subject=child.id, purpose=ACCESS, image=faces["lennon1"])
    assert _verification(d.verify(subject=child.id, purpose=ACCESS,
                                  image=faces["lennon2"])).matched
    # Fourteen and over consent for themselves under cn-2025; an undeclared age asks a guardian.
    teen = d.register_subject(birth_date=date(today.year - 14, 1, 1))
    consent(d, teen.id, ACCESS)
    unknown = d.register_subject()
    with pytest.raises(GuardianConsentRequired):
        consent(d, unknown.id, ACCESS)


def test_r6_no_activation_without_a_complete_bilingual_notice(books: Deployment) -> None:
    d = books
    add_purpose(d, "access.gym", activate=False)
    full = demo_notice()
    # what the records cannot state (how people who need help are helped) is written
    without_help = {k: v for k, v in full.items() if k != "accessibility"}
    with pytest.raises(NoticeIncomplete) as dropped:
        d.publish_notice(purpose="access.gym", content=without_help)
    assert_refused(dropped.value, "notice.incomplete", "R6")
    assert "accessibility/zh" in dropped.value.message
    assert "accessibility/en" in dropped.value.details["fields"]
    english_only = {k: {"en": v["en"]} for k, v in full.items()}
    with pytest.raises(NoticeIncomplete) as half:
        d.publish_notice(purpose="access.gym", content=english_only)
    assert "other_legal_items/zh" in half.value.details["fields"]
    d.register_purpose(key="access.dock", site="hq.lobby", description=both("dock"),
                       necessity=both("night shift"), legal_basis=both("consent"), modes=["verify"],
                       alternatives=[alt("card")], retention_days=30)
    d.sign_assessment(purpose="access.dock", content=demo_assessment(), signed_by="DPO")
    with pytest.raises(NoticeIncomplete) as no_notice:
        d.activate_purpose("access.dock")
    assert_refused(no_notice.value, "notice.incomplete", "R6")
    # Allowed: a complete notice; editing it bumps the version and flags re-notice.
    d.publish_notice(purpose="access.dock", content=full)
    assert d.activate_purpose("access.dock").status == "active"
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, "access.dock")
    assert d.renotice_due("access.dock") == []
    v2 = d.publish_notice(purpose="access.dock", content=full)
    assert v2.version == 2
    assert d.renotice_due("access.dock") == [alice.id]


def test_r6_no_activation_while_a_record_lacks_a_required_language(books: Deployment) -> None:
    d = books
    add_purpose(d, "access.gate", activate=False, description="gate access for staff",
                alternatives=["badge", alt("guard")])
    with pytest.raises(NoticeIncomplete) as refused:
        d.activate_purpose("access.gate")
    assert_refused(refused.value, "notice.incomplete", "R6")
    # each missing text is named with its field and language, none of those present
    # (a purpose's short name is its description unless it has one)
    assert refused.value.details["fields"] == ["purpose name/zh", "purpose description/zh",
                                               "alternative badge/zh"]
    assert "purpose description/zh" in refused.value.message
    d.update_purpose("access.gate", name={"zh": "闸机", "en": "gate"},
                     description={"zh": "员工闸机通行", "en": "gate access for staff"},
                     alternatives=[alt("badge"), alt("guard")])
    d.sign_assessment(purpose="access.gate", content=demo_assessment(), signed_by="DPO")
    assert d.activate_purpose("access.gate").status == "active"


def test_r7_declining_routes_to_the_alternative(books: Deployment, tmp_path: Path) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    route = d.verify(subject=alice.id, purpose=ACCESS, image=tmp_path / "none.jpg",
                     declined=True)
    assert isinstance(route, AlternativeRoute)
    assert route.outcome == "route_to_alternative"
    assert [(a.key, dict(a.name)) for a in route.alternatives] == [
        ("staff badge with guard check", {"zh": "员工卡加保安核验",
                                          "en": "staff badge with guard check"})]
    outcome = d.record_alternative_outcome(purpose=ACCESS, method=route.alternatives[0].key,
                                           result="verified", subject=alice.id)
    assert outcome.result == "verified"
    with pytest.raises(InvalidArgument):
        d.record_alternative_outcome(purpose=ACCESS, method="retina scan", result="verified")
    # A purpose with neither an alternative nor a mandating law cannot be registered...
    with pytest.raises(AlternativeRequired) as exc:
        d.register_purpose(key="border.exit", site="hq.lobby", description=both("exit control"),
                           necessity=both("law"), legal_basis=both("statute"), modes=["verify"],
                           alternatives=[], retention_days=30)
    assert_refused(exc.value, "alternative.missing", "R7")
    # ...unless it records the law; then declining is refused citing that mandate.
    add_purpose(d, "border.exit", alternatives=[],
                mandate={"zh": "《出境入境管理法》第一条（示例）",
                         "en": "Exit-Entry Administration Law Art. 1 (example)"})
    with pytest.raises(AlternativeUnavailable) as mandated:
        d.decline(purpose="border.exit", subject=alice.id)
    assert_refused(mandated.value, "alternative.unavailable", "R7")
    assert [e.name for e in d.audit_events("route-to-alternative")] == ["route-to-alternative"]


def test_r8_templates_stay_on_the_device_without_transfer_consent(
        books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    if d.central_store:
        pytest.skip("device-mode purposes cannot enroll into a central store at all: "
                    "tests/deployment/test_central.py checks R8 there")
    add_purpose(d, "access.campus", storage_mode="central")
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, "access.campus")
    consent(d, alice.id, ACCESS)
    with pytest.raises(TransferNotPermitted) as central:
        d.enroll(subject=alice.id, purpose="access.campus", image=faces["obama"])
    assert_refused(central.value, "transfer.not_permitted", "R8")
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    with pytest.raises(TransferNotPermitted) as export:
        d.export_templates(subject=alice.id, purpose=ACCESS)
    assert_refused(export.value, "transfer.not_permitted", "R8")
    # Allowed: with separate transfer consent.
    for purpose in ("access.campus", ACCESS):
        consent(d, alice.id, purpose, scope="transfer")
    d.enroll(subject=alice.id, purpose="access.campus", image=faces["obama"])
    exported = d.export_templates(subject=alice.id, purpose=ACCESS)
    assert len(exported) == 1 and len(exported[0]["descriptor"]) == 128


def test_r9_retention_is_capped_and_expired_templates_are_purged(
        books: Deployment, clock: FixedClock, faces: dict[str, Path]) -> None:
    d = books
    with pytest.raises(RetentionTooLong) as exc:
        d.register_purpose(key="access.vault", site="hq.lobby", description=both("vault"),
                           necessity=both("high value"), legal_basis=both("consent"),
                           modes=["verify"],
                           alternatives=[alt("guard")], retention_days=0)
    assert_refused(exc.value, "retention.over_cap", "R9")
    add_purpose(d, "access.visitor", retention_days=30)
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, "access.visitor")
    d.enroll(subject=alice.id, purpose="access.visitor", image=faces["obama"])
    clock.advance(timedelta(days=29))
    assert d.sweep_retention().templates == 0
    assert d.template_count(purpose="access.visitor") == 1
    clock.advance(timedelta(days=2))
    assert d.template_count(purpose="access.visitor") == 0  # expired rows are never matched
    assert d.sweep_retention().templates == 1
    rows = d.connection.execute("SELECT count(*) FROM templates").fetchone()[0]
    assert rows == 0


def test_r10_raw_images_are_never_stored(books: Deployment, faces: dict[str, Path],
                                         tmp_path: Path) -> None:
    d = books
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    d.verify(subject=alice.id, purpose=ACCESS, image=faces["obama2"])
    photo = faces["obama"].read_bytes()
    assert {p.name for p in tmp_path.iterdir()} <= {"facegate.db", "facegate.db-shm",
                                                    "facegate.db-wal", "facegate.db.keys",
                                                    "facegate.db.keys.lock"}
    assert (tmp_path / "facegate.db.keys.lock").stat().st_size == 0
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert b"\xff\xd8\xff" not in data, path  # JPEG start of image
        assert b"\x89PNG" not in data, path
        assert photo[1000:1064] not in data, path
    # What is kept is the 128-d template only, sealed (version, nonce, ciphertext, tag).
    (size,) = d.connection.execute("SELECT length(descriptor) FROM templates").fetchone()
    assert size == 1 + 12 + 128 * 4 + 16


def test_r12_private_spaces_cannot_be_registered(books: Deployment) -> None:
    for site_type in ("hotel_room", "bathhouse", "changing_room", "toilet"):
        with pytest.raises(PrivateSpaceForbidden) as exc:
            books.register_site(key=f"x.{site_type}", name=site_type, site_type=site_type)
        assert_refused(exc.value, "site.private_space", "R12")
    assert books.register_site(key="hq.gym", name=both("Gym"), site_type="office").key == "hq.gym"
    assert [e.outcome for e in books.audit_events("refusal")] == ["site.private_space"] * 4


def test_r13_public_places_need_security_purpose_zone_and_signage(
        books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    for zone, signs in ((None, True), ("platform 1-4", False)):
        with pytest.raises(PublicPlaceRequirements) as exc:
            d.register_site(key="station.hall", name=both("Hall"), site_type="station",
                            public_place=True, capture_zone=zone, signage_attested=signs)
        assert_refused(exc.value, "site.public_place_unmet", "R13")
    d.register_site(key="station.hall", name=both("Hall"), site_type="station", public_place=True,
                    capture_zone="platform 1-4 gates", signage_attested=True)
    with pytest.raises(PublicPlaceRequirements) as marketing:
        d.register_purpose(key="retail.loyalty", site="station.hall", description=both("loyalty"),
                           necessity=both("sales"), legal_basis=both("consent"), modes=["identify"],
                           alternatives=[alt("card")], retention_days=30)
    assert_refused(marketing.value, "site.public_place_unmet", "R13")
    # Allowed: a public-security purpose.
    add_purpose(d, "security.station.watch", site="station.hall", public_security=True,
                legal_basis={"zh": "《反恐怖主义法》（示例引用）",
                             "en": "Anti-Terrorism Law (example citation)"})
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, "security.station.watch")
    d.enroll(subject=alice.id, purpose="security.station.watch", image=faces["obama"])
    found = d.identify(purpose="security.station.watch", image=faces["obama2"])
    assert [c.subject_id for c in found.candidates] == [alice.id]
    # Its gallery cannot be queried for another purpose.
    with pytest.raises(CrossPurposeGallery) as cross:
        d.identify(purpose=ACCESS, image=faces["obama2"], gallery="security.station.watch")
    assert_refused(cross.value, "gallery.cross_purpose", "R13")


def test_r14_impact_assessment_gate(books: Deployment, clock: FixedClock,
                                    faces: dict[str, Path]) -> None:
    d = books
    d.register_purpose(key="access.lab", site="hq.lobby", description=both("lab door"),
                       necessity=both("biosafety"), legal_basis=both("consent"), modes=["verify"],
                       alternatives=[alt("badge")], retention_days=90, threshold=DEMO_THRESHOLD,
                       storage_mode="central" if d.central_store else "device",
                       pack="dlib-resnet-v1")  # DEMO_THRESHOLD is a dlib distance
    d.publish_notice(purpose="access.lab", content=demo_notice())
    with pytest.raises(AssessmentRequired) as none:
        d.activate_purpose("access.lab")
    assert_refused(none.value, "assessment.missing", "R14")
    partial = {k: v for k, v in demo_assessment().items() if k != "alternatives_considered"}
    with pytest.raises(AssessmentRequired) as lacking:
        d.sign_assessment(purpose="access.lab", content=partial, signed_by="DPO")
    assert "alternatives_considered" in lacking.value.message
    pia = d.sign_assessment(purpose="access.lab", content=demo_assessment(), signed_by="DPO")
    d.activate_purpose("access.lab")
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, "access.lab")
    d.enroll(subject=alice.id, purpose="access.lab", image=faces["obama"])
    # A change of method makes the PIA stale and suspends the purpose.
    changed = d.update_purpose("access.lab", modes=["verify", "identify"])
    assert changed.status == "suspended"
    assert d.assessments("access.lab")[0].stale_since is not None
    with pytest.raises(PurposeNotActive) as suspended:
        d.verify(subject=alice.id, purpose="access.lab", image=faces["obama2"])
    assert_refused(suspended.value, "purpose.not_active", "R14")
    with pytest.raises(AssessmentRequired):
        d.activate_purpose("access.lab")
    d.sign_assessment(purpose="access.lab", content=demo_assessment(), signed_by="DPO")
    # Identifying now needs a threshold calibrated on the purpose's population (R21).
    with pytest.raises(CalibrationRequired):
        d.activate_purpose("access.lab")
    d.record_calibration(purpose="access.lab", evaluation=population_evaluation(d.analyzer),
                         population=POPULATION)
    d.activate_purpose("access.lab")
    assert _verification(d.verify(subject=alice.id, purpose="access.lab",
                                  image=faces["obama2"])).matched
    # An assessment is kept three years.
    clock.advance(timedelta(days=365))
    with pytest.raises(AssessmentRetained) as kept:
        d.delete_assessment(pia.id)
    assert_refused(kept.value, "assessment.retained", "R14")
    clock.advance(timedelta(days=2 * 365 + 1))
    d.delete_assessment(pia.id)
    assert [a.id for a in d.assessments("access.lab")] != [pia.id]
    # A major security incident suspends every active purpose until reassessed.
    assert set(d.report_incident(description="laptop theft")) >= {"access.lab", ACCESS}
    assert d.purpose(ACCESS).status == "suspended"
