"""The biometric services accept only a grant for exactly their operation, purpose and subject.

These are policy tests, so they run on :class:`FakeEngine` and synthetic images.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from facegate.analysis import FaceAnalyzer
from facegate.audit.integrity import RowGuard
from facegate.consent.ledger import current_state
from facegate.deployment import Deployment
from facegate.errors import GrantInvalid
from facegate.jurisdictions import CN_2025
from facegate.matching import service as matching
from facegate.organisation.repository import get_site
from facegate.policy import gate
from facegate.policy.decision import Operation
from facegate.policy.facts import ProcessingRequest, SubjectFacts
from facegate.templates import service as templates
from facegate.templates.keys import DataKeys

from ..support.engines import FakeEngine
from ..support.governed import START, add_purpose, consent
from ..support.words import both

ACCESS = "access.office.entry"


def _photo(path: Path, seed: int) -> Path:
    pixels = np.random.default_rng(seed).integers(40, 200, size=(200, 200, 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(path)
    return path


@pytest.fixture
def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def deployment(open_deployment: Callable[..., Deployment], fake: FakeEngine) -> Deployment:
    d = open_deployment("fake.db", analyzer=FaceAnalyzer(fake))
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="9131")
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ACCESS)
    add_purpose(d, "hr.attendance", modes=("verify",))
    fake.calls.clear()  # the identification purpose's calibration ran on the engine
    return d


def _request(d: Deployment, operation: Operation, purpose: str,
             subject: str | None) -> ProcessingRequest:
    """The facts of a request, gathered from the deployment's public records."""
    row = d.purpose(purpose)
    live = current_state(e for e in d.consents(subject or "") if e.purpose_key == purpose)
    return ProcessingRequest(
        operation=operation, profile=CN_2025, purpose_key=purpose, purpose=row,
        site=get_site(d.connection, key=row.site_key), notice_version=1,
        assessment_current=True, now=START,
        subject=SubjectFacts(id=subject, minor=False, consent=live) if subject else None)


def test_services_refuse_a_grant_for_another_operation_purpose_or_subject(
        deployment: Deployment, fake: FakeEngine, tmp_path: Path) -> None:
    d = deployment
    alice, bob = d.register_subject(age_band="adult"), d.register_subject(age_band="adult")
    for s in (alice, bob):
        consent(d, s.id, ACCESS)
        consent(d, s.id, "hr.attendance")
    photo = _photo(tmp_path / "a.png", 1)
    purpose = d.purpose(ACCESS)
    verify_grant = gate.require(_request(d, Operation.VERIFY, ACCESS, alice.id))
    enroll_bob = gate.require(_request(d, Operation.ENROLL, ACCESS, bob.id))
    enroll_other = gate.require(_request(d, Operation.ENROLL, "hr.attendance", alice.id))
    keys = DataKeys(d.connection, ring=d.key_ring, now=START,
                    guard=RowGuard(d.connection, d.row_mac))
    for grant in (verify_grant, enroll_bob, enroll_other):
        with pytest.raises(GrantInvalid):
            templates.enroll(grant, conn=d.connection, keys=keys, analyzer=d.analyzer,
                             image=photo, purpose=purpose, subject_id=alice.id,
                             now=grant.issued_at, consent_seq=None)
    # A grant to enroll does not allow keeping the image unless policy said so (R10).
    enroll_alice = gate.require(_request(d, Operation.ENROLL, ACCESS, alice.id))
    with pytest.raises(GrantInvalid):
        templates.enroll(enroll_alice, conn=d.connection, keys=keys, analyzer=d.analyzer,
                         image=photo, purpose=purpose, subject_id=alice.id,
                         now=enroll_alice.issued_at, consent_seq=None, retain_image=True)
    with pytest.raises(GrantInvalid):
        matching.identify(verify_grant, conn=d.connection, keys=keys, analyzers=d.analyzer_for,
                          image=photo, purpose=purpose, now=verify_grant.issued_at)
    assert sum(fake.calls.values()) == 0  # refused before the engine ran
    with pytest.raises(GrantInvalid):
        dataclasses.replace(enroll_bob, subject_id=alice.id)
    with pytest.raises(GrantInvalid):
        dataclasses.replace(enroll_alice, retain_image=True)


def test_the_whole_flow_runs_on_any_engine(deployment: Deployment, fake: FakeEngine,
                                           tmp_path: Path) -> None:
    d = deployment
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    photo, stranger = _photo(tmp_path / "a.png", 1), _photo(tmp_path / "b.png", 2)
    d.enroll(subject=alice.id, purpose=ACCESS, image=photo)
    same = d.verify(subject=alice.id, purpose=ACCESS, image=photo)
    other = d.verify(subject=alice.id, purpose=ACCESS, image=stranger)
    assert getattr(same, "matched", None) is True
    assert getattr(other, "matched", None) is False
    assert d.identify(purpose=ACCESS, image=stranger).no_match
    assert fake.calls["embed"] == 4
