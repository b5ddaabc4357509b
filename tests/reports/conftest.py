"""A demo deployment with real enrolments, built once for the report tests.

Two purposes (``access.office.entry`` verifies and identifies, calibrated on
the staff photos; ``hr.attendance`` verifies), four people enrolled from the
shared sample faces, one verification, one identification, a refusal, a
decline with three alternative checks, a withdrawal and an erasure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import ConsentRequired

from ..support.governed import START, add_purpose, consent
from ..support.words import both

ACCESS = "access.office.entry"
ATTENDANCE = "hr.attendance"


@dataclass
class Demo:
    d: Deployment
    db: Path
    clock: FixedClock
    alice: str
    bob: str
    carol: str
    dave: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, analyzer: FaceAnalyzer,
         faces: dict[str, Path]) -> Iterator[Demo]:
    db = tmp_path_factory.mktemp("reports") / "facegate.db"
    clock = FixedClock(START)
    d = Deployment.open(db, analyzer=analyzer, clock=clock, create=True)
    d.register_processor(name=both("Example Office Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", province=both("Shanghai"),
                         security_measures=both("device storage, access control, audit trail"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ACCESS)
    add_purpose(d, ATTENDANCE, modes=("verify",))
    people = {}
    for name in ("alice", "bob", "carol", "dave"):
        people[name] = d.register_subject(external_ref=f"staff-{name}", age_band="adult").id
    clock.advance(timedelta(hours=1))
    for name, face, purpose in (("alice", "obama", ACCESS), ("bob", "biden", ACCESS),
                                ("carol", "lennon1", ATTENDANCE), ("dave", "lennon2", ACCESS)):
        consent(d, people[name], purpose)
        d.enroll(subject=people[name], purpose=purpose, image=faces[face])
    clock.advance(timedelta(hours=1))
    d.verify(subject=people["alice"], purpose=ACCESS, image=faces["obama2"])
    d.identify(purpose=ACCESS, image=faces["obama2"])
    with pytest.raises(ConsentRequired):
        d.enroll(subject=people["alice"], purpose=ATTENDANCE, image=faces["obama"])
    d.decline(purpose=ACCESS)
    for result in ("verified", "verified", "not_verified"):
        d.record_alternative_outcome(purpose=ACCESS, method="staff badge with guard check",
                                     result=result)
    clock.advance(timedelta(days=1))
    d.withdraw_consent(subject=people["carol"], purpose=ATTENDANCE)
    d.erase_subject(people["dave"])
    clock.advance(timedelta(hours=1))
    yield Demo(d=d, db=db, clock=clock, **people)
    d.close()
