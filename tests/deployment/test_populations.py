"""The population a purpose serves: its default pack, its threshold, and R21 for verification.

A purpose records the population it serves (the jurisdiction's default,
East-Asian adults under cn-2025). Without a calibration of its own, its
threshold is its pack's shipped calibration for that population; never
another population's. Real faces, a real SQLite store.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.calibration.shipped import EAST_ASIAN_ADULTS, LFW_VIEW1, shipped_calibration
from facegate.demo.governed import demo_assessment, demo_notice
from facegate.deployment import Deployment
from facegate.engine.pack_install import is_installed
from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1
from facegate.engine.selection import best_pack
from facegate.errors import CalibrationRequired
from facegate.fitness.evaluation import Evaluation, evaluate_pack, load_labelled_set
from facegate.images import load_image

from ..support.asserts import assert_refused
from ..support.governed import consent
from ..support.words import alt, both

DOOR = "access.door.verify"
DLIB = "dlib-resnet-v1"


def _register(d: Deployment, *, key: str = DOOR, **overrides: object) -> None:
    spec: dict[str, object] = dict(
        key=key, site="hq.lobby", description=both("door"), necessity=both("hands-free entry"),
        legal_basis=both("separate consent"), modes=["verify"], alternatives=[alt("badge")],
        retention_days=365)
    spec.update(overrides)
    d.register_purpose(**spec)  # type: ignore[arg-type]
    d.publish_notice(purpose=key, content=demo_notice())
    d.sign_assessment(purpose=key, content=demo_assessment(), signed_by="DPO")


def _lfw_evaluation(analyzer: FaceAnalyzer, shared: Path, tmp_path: Path) -> Evaluation:
    lines = (shared / "lfw" / "pairsDevTrain.txt").read_text().splitlines()
    same = [line for line in lines[1:] if len(line.split()) == 3][:15]
    different = [line for line in lines[1:] if len(line.split()) == 4][:15]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\n".join(["15", *same, *different]) + "\n")
    return evaluate_pack(analyzer, load_labelled_set(shared / "lfw", pairs_file=pairs),
                         target_fmr=0.1)


def test_a_cn_purpose_serves_east_asian_adults_with_the_best_installed_pack(
        books: Deployment) -> None:
    _register(books)
    purpose = books.purpose(DOOR)
    assert purpose.population == EAST_ASIAN_ADULTS
    assert purpose.pack == best_pack(EAST_ASIAN_ADULTS)
    if is_installed(FACEPLUGIN_ARCFACE_V1):
        # the pack whose model card covers East-Asian faces, by the shipped figures
        assert purpose.pack == FACEPLUGIN_ARCFACE_V1.id
    registered = books.audit_events("purpose-registered")[-1]
    assert registered.detail == {"pack": purpose.pack, "population": EAST_ASIAN_ADULTS}


def test_an_eu_purpose_serves_the_profiles_population(
        open_deployment: Callable[..., Deployment]) -> None:
    d = open_deployment("eu.db")
    d.register_processor(name=both("Ex GmbH"), contact=both("dpo@example.eu"), credit_code="DE1",
                         jurisdiction="eu-gdpr-ai-act")
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    _register(d, pack=DLIB)
    assert d.purpose(DOOR).population == LFW_VIEW1


def test_r21_a_cn_verification_purpose_runs_at_the_shipped_east_asian_threshold(
        books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    _register(d, pack=DLIB)
    shipped = shipped_calibration(DLIB, "1.0", EAST_ASIAN_ADULTS)
    assert shipped is not None and shipped.threshold < d.analyzer.pack.default_threshold
    d.activate_purpose(DOOR)
    warning = d.audit_events("warning")[-1]
    assert warning.rule == "R21" and "shipped east-asian-adults calibration" in (
        warning.detail["message"])
    card = d.model_card(DOOR)
    assert card["population"] == EAST_ASIAN_ADULTS
    assert card["threshold"] == shipped.threshold and card["threshold_is_evaluated"]
    assert card["shipped_calibration"]["fmr"]["ci95"] == list(shipped.fmr_interval)
    assert "turned_away" in " ".join(card["caveats"])
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    result = d.verify(subject=subject.id, purpose=DOOR, image=faces["obama2"])
    assert result.threshold == shipped.threshold and result.pack == DLIB
    assert result.decided and result.matched  # 0.24 apart, well within
    stranger = d.verify(subject=subject.id, purpose=DOOR, image=faces["biden"])
    assert not stranger.matched


def test_r21_the_same_purpose_with_only_an_lfw_calibration_cannot_be_activated(
        books: Deployment, analyzer: FaceAnalyzer, shared: Path, tmp_path: Path) -> None:
    d = books
    _register(d, pack=DLIB)
    on_lfw = d.record_calibration(purpose=DOOR, evaluation=_lfw_evaluation(
        analyzer, shared, tmp_path), population="LFW View 1 (pairsDevTrain)")
    assert on_lfw.lfw_derived
    with pytest.raises(CalibrationRequired) as refused:
        d.activate_purpose(DOOR)
    assert_refused(refused.value, "calibration.missing", "R21")
    assert "east-asian-adults" in refused.value.message
    assert d.audit_events("refusal")[-1].rule == "R21"


def test_r21_an_lfw_calibration_recorded_on_a_live_purpose_stops_verification(
        books: Deployment, analyzer: FaceAnalyzer, shared: Path, tmp_path: Path,
        faces: dict[str, Path]) -> None:
    d = books
    _register(d, pack=DLIB)
    d.activate_purpose(DOOR)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    d.record_calibration(purpose=DOOR, evaluation=_lfw_evaluation(analyzer, shared, tmp_path),
                         population="lfw")
    with pytest.raises(CalibrationRequired) as refused:
        d.verify(subject=subject.id, purpose=DOOR, image=faces["obama2"])
    assert_refused(refused.value, "calibration.missing", "R21")


def test_r21_a_population_without_any_calibration_cannot_be_activated(
        books: Deployment) -> None:
    _register(books, pack=DLIB, population="night-shift-workers")
    with pytest.raises(CalibrationRequired) as refused:
        books.activate_purpose(DOOR)
    assert_refused(refused.value, "calibration.missing", "R21")
    assert "night-shift-workers" in refused.value.message


def test_a_probe_outside_what_the_calibration_measured_is_not_decided_on(
        books: Deployment, faces: dict[str, Path]) -> None:
    d = books
    _register(d, pack=DLIB)
    d.activate_purpose(DOOR)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    shipped = shipped_calibration(DLIB, "1.0", EAST_ASIAN_ADULTS)
    assert shipped is not None
    # the same photo, shrunk until the face is narrower than the calibration's faces
    from PIL import Image as PILImage

    image = load_image(faces["obama2"])
    found = d.analyzer.detect(image)[0]
    scale = 0.8 * shipped.quality["min_face_size"] / found.box.width
    small = PILImage.fromarray(image.pixels).resize(
        (round(image.width * scale), round(image.height * scale)), PILImage.Resampling.LANCZOS)
    encoded = io.BytesIO()
    small.save(encoded, format="PNG")
    result = d.verify(subject=subject.id, purpose=DOOR, image=encoded.getvalue())
    assert not result.decided and not result.matched
    assert "small_face" in result.quality
    assert d.audit_events("verify")[-1].outcome == "undecided"


def test_a_subject_may_hold_several_templates(books: Deployment,
                                              faces: dict[str, Path]) -> None:
    d = books
    _register(d, pack=DLIB)
    d.activate_purpose(DOOR)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama2"])
    assert d.template_count(purpose=DOOR, subject=subject.id) == 2
    result = d.verify(subject=subject.id, purpose=DOOR, image=faces["obama2"])
    assert result.templates == 2 and result.matched
    assert result.distance == pytest.approx(0.0, abs=1e-5)
    # two chances of a false match: the threshold for FMR 0.1% / 2 on the same data
    shipped = shipped_calibration(DLIB, "1.0", EAST_ASIAN_ADULTS)
    assert shipped is not None
    two = shipped.threshold_for(2)
    assert two is not None and two < shipped.threshold
    assert result.threshold == pytest.approx(two)


@pytest.mark.parametrize(("jurisdiction", "population"),
                         [("cn-2025", EAST_ASIAN_ADULTS), ("us-il-bipa", LFW_VIEW1)])
def test_a_store_from_before_populations_gets_its_profiles_population(
        tmp_path: Path, jurisdiction: str, population: str) -> None:
    db = tmp_path / "old.db"
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Ex"), contact=both("dpo@example.com"), credit_code="1",
                             jurisdiction=jurisdiction)
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        d.register_purpose(key=DOOR, site="hq.lobby", description=both("door"),
                           necessity=both("entry"), legal_basis=both("consent"),
                           modes=["verify"], alternatives=[alt("badge")],
                           retention_days=365, pack=DLIB)
    # the store as the previous release left it: no population column, migration 8 not run
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE purposes DROP COLUMN population")
    conn.execute("DELETE FROM schema_migrations WHERE version = 8")
    conn.commit()
    conn.close()
    with Deployment.open(db) as d:
        migrated = d.purpose(DOOR)
        assert migrated.population == population and migrated.pack == DLIB


def test_an_existing_dlib_purpose_moves_to_the_arcface_pack_through_the_window(
        books: Deployment, faces: dict[str, Path]) -> None:
    from ..support.engines import pack_engine

    pack_engine(FACEPLUGIN_ARCFACE_V1.id)  # skips, saying how to install it, when absent
    d = books
    _register(d, pack=DLIB)
    d.activate_purpose(DOOR)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    assert d.purpose(DOOR).pack == DLIB  # it keeps its pack until migrated
    d.begin_pack_migration(purpose=DOOR, pack=FACEPLUGIN_ARCFACE_V1.id, window_days=30)
    d.enroll(subject=subject.id, purpose=DOOR, image=faces["obama"])
    result = d.verify(subject=subject.id, purpose=DOOR, image=faces["obama2"])
    arcface = shipped_calibration(FACEPLUGIN_ARCFACE_V1.id, FACEPLUGIN_ARCFACE_V1.version,
                                  EAST_ASIAN_ADULTS)
    assert arcface is not None
    assert result.matched and result.pack == FACEPLUGIN_ARCFACE_V1.id
    assert result.threshold == arcface.threshold
    moved = d.finish_pack_migration(purpose=DOOR)
    assert moved.subjects_moved == 1 and d.purpose(DOOR).pack == FACEPLUGIN_ARCFACE_V1.id


def test_a_template_is_enrolled_only_from_a_face_that_passes_quality(
        books: Deployment, faces: dict[str, Path], shared: Path) -> None:
    from PIL import ImageFilter

    from facegate.errors import FaceQualityTooLow

    d = books
    _register(d, pack=DLIB)
    d.activate_purpose(DOOR)
    subject = d.register_subject(age_band="adult")
    consent(d, subject.id, DOOR)
    from PIL import Image as PILImage

    blurred = io.BytesIO()
    PILImage.open(faces["obama"]).convert("RGB").filter(
        ImageFilter.GaussianBlur(4)).save(blurred, format="PNG")
    with pytest.raises(FaceQualityTooLow) as refused:
        d.enroll(subject=subject.id, purpose=DOOR, image=blurred.getvalue())
    assert refused.value.code == "face.quality"
    assert "low_sharpness" in refused.value.details["reasons"]
    assert d.template_count(purpose=DOOR, subject=subject.id) == 0
    # a face turned away is refused before it is described (the ArcFace pack's purpose)
    if is_installed(FACEPLUGIN_ARCFACE_V1):
        _register(d, key="access.door.arcface", pack=FACEPLUGIN_ARCFACE_V1.id)
        d.activate_purpose("access.door.arcface")
        consent(d, subject.id, "access.door.arcface")
        turned = shared / "eastasian/thefamouspeople_eastasian/yao-ming/yao-ming-3.jpg"
        with pytest.raises(FaceQualityTooLow) as away:
            d.enroll(subject=subject.id, purpose="access.door.arcface", image=turned)
        assert "turned_away" in away.value.details["reasons"]
        assert d.template_count(purpose="access.door.arcface", subject=subject.id) == 0
