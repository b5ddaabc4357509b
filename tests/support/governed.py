"""Helpers that build a deployment's books the way a deployer would."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.demo.governed import (
    DEMO_THRESHOLD,
    STAFF,
    demo_assessment,
    demo_notice,
    staff_photos,
)
from facegate.deployment import Deployment
from facegate.fitness.evaluation import Evaluation, evaluate_pack, load_labelled_set

from .data import shared_data_dir
from .words import alt, both

#: The fixed clock's start: 10:00 in China on Monday 1 September 2025.
START = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)


#: Who the test population's photos show.
POPULATION = STAFF
_EVALUATIONS: dict[tuple[str, str], Evaluation] = {}


def samples_dir() -> Path | None:
    """The shared sample photos, or ``None`` when ``../shared/data`` is absent."""
    root = shared_data_dir()
    return None if root is None else root / "samples"


_FOLDER: list[Path] = []


def population_folder() -> Path:
    """The test staff's photos as a folder per person (see
    :func:`facegate.demo.governed.staff_photos`), once per session.

    Skips when ``../shared/data`` is absent.
    """
    if _FOLDER:
        return _FOLDER[0]
    samples = samples_dir()
    if samples is None:
        pytest.skip("an identification purpose needs a calibration on real faces; "
                    "../shared/data is not present (set FACEGATE_DATA)")
    folder = staff_photos(samples, Path(tempfile.mkdtemp(prefix="facegate-population-")))
    _FOLDER.append(folder)
    return folder


def population_evaluation(analyzer: FaceAnalyzer) -> Evaluation:
    """A real evaluation of ``analyzer``'s pack on :func:`population_folder`, at a target
    FMR of 1e-2, once per engine and session.

    Identification purposes need a calibration to be activated (R21).
    """
    key = (type(analyzer.engine).__name__, analyzer.pack.id)
    if key not in _EVALUATIONS:
        _EVALUATIONS[key] = evaluate_pack(analyzer, load_labelled_set(population_folder()),
                                          target_fmr=1e-2)
    return _EVALUATIONS[key]


def add_purpose(d: Deployment, key: str, *, site: str = "hq.lobby",
                modes: tuple[str, ...] = ("verify", "identify"), activate: bool = True,
                **overrides: object) -> None:
    """Register a complete purpose (notice, PIA) and, by default, activate it.

    An identification purpose is first calibrated on the test staff's photos
    (:func:`population_evaluation`), as the gate requires (R21).
    """
    spec: dict[str, object] = dict(
        key=key, site=site, description={"zh": f"{key}：员工使用", "en": f"{key} for staff"},
        necessity={"zh": "免接触通行", "en": "hands-free entry"},
        legal_basis=both("separate consent"),
        modes=list(modes), alternatives=[alt("staff badge with guard check")],
        retention_days=365,
        threshold=DEMO_THRESHOLD,
        # the figures these purposes' tests pin are dlib's (DEMO_THRESHOLD is a dlib
        # distance); purposes that name no pack get the best-measured installed one
        pack="dlib-resnet-v1")
    if d.central_store:  # a central store holds central purposes only (R8)
        spec["storage_mode"] = "central"
    spec.update(overrides)
    d.register_purpose(**spec)  # type: ignore[arg-type]
    d.publish_notice(purpose=key, content=demo_notice())
    d.sign_assessment(purpose=key, content=demo_assessment(), signed_by="DPO")
    if "identify" in modes:
        d.record_calibration(purpose=key, evaluation=population_evaluation(
            d.analyzer_for(d.purpose(key).pack)), population=POPULATION)
    if activate:
        d.activate_purpose(key)


def consent(d: Deployment, subject: str, purpose: str, **kw: object) -> None:
    """Record a valid separate consent against the current notice."""
    notice = d.notice(purpose)
    assert notice is not None
    method = kw.pop("method", "on_screen")
    d.record_consent(subject=subject, purpose=purpose, notice_version=notice.version,
                     method=method, **kw)  # type: ignore[arg-type]
    if d.central_store and kw.get("scope", "biometric") == "biometric":
        # templates in a central store leave the device: separate transfer consent (R8)
        d.record_consent(subject=subject, purpose=purpose, notice_version=notice.version,
                         method=method, scope="transfer",
                         **{k: v for k, v in kw.items() if k != "scope"})  # type: ignore[arg-type]
