"""A populated store, built once per session, for the insider suite.

Several hundred audit entries, templates of real faces, consents and withdrawals,
refusals, an identification with a review case: what a deployment holds after
some weeks. Each tampering works on a copy of the file; the key file stays with
the defender (the attacker edits the database without it).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import PolicyRefusal

from ..support.governed import START, add_purpose, consent
from ..support.words import both

P, Q = "access.office.entry", "hr.attendance"


@dataclass(frozen=True)
class Populated:
    """The store's file, its key file, and who is in it."""

    db: Path
    keys: Path
    #: subjects enrolled for P with these photos (faces fixture names)
    enrolled: dict[str, str]
    #: a subject who enrolled (lennon2) and then withdrew: nothing of it may match again
    withdrawn: str
    #: the withdrawn subject's template row and consent rows as they were before
    withdrawn_template: tuple[object, ...]
    withdrawn_consents: list[tuple[object, ...]]
    #: staff accounts: name -> (password, TOTP secret, role, purposes as stored, disabled)
    staff: dict[str, tuple[str, str, str, str | None, bool]]

    def copy_to(self, folder: Path) -> Path:
        """A copy of the store and its key file in ``folder``; the copy's path."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "facegate.db"
        shutil.copyfile(self.db, target)
        shutil.copy2(self.keys, folder / "facegate.db.keys")
        return target


@pytest.fixture(scope="session")
def populated(tmp_path_factory: pytest.TempPathFactory, analyzer: FaceAnalyzer,
              faces: dict[str, Path]) -> Populated:
    folder = tmp_path_factory.mktemp("insider-store")
    db = folder / "facegate.db"
    clock = FixedClock(START)
    d = Deployment.open(db, analyzer=analyzer, clock=clock, create=True)
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", province=both("Shanghai"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, P)
    add_purpose(d, Q, modes=("verify",))
    d.configure_review(purpose=P, window=timedelta(hours=4))
    for label in ("Reviewer Wang", "Reviewer Chen"):
        reviewer = d.issue_api_key(role="reviewer", label=label, purposes=[P])
        d.authorise_reviewer(purpose=P, reviewer=reviewer.key.principal)
    d.issue_api_key(role="operator", label="Lobby kiosk", purposes=[P])
    d.issue_api_key(role="auditor", label="External auditor")
    d.revoke_api_key(d.issue_api_key(role="operator", label="Old kiosk").key.id)
    staff: dict[str, tuple[str, str, str, str | None, bool]] = {}
    for name, role, scope, off in (("wang", "reviewer", [P], False),
                                   ("li", "admin", None, True)):
        made = d.add_staff(name=name, display_name=name.title(), role=role,
                           password=f"{name}-correct-horse", purposes=scope)
        if role == "reviewer":
            d.authorise_reviewer_account(purpose=P, account=name)
        if off:
            d.disable_staff(name)
        staff[name] = (f"{name}-correct-horse", made.totp_secret, role,
                       f'["{P}"]' if scope else None, off)
    people = [d.register_subject(age_band="adult").id for _ in range(140)]
    for s in people:
        consent(d, s, P)
        clock.advance(timedelta(minutes=3))
    for s in people[:30]:
        consent(d, s, Q)
    for s in people[120:]:
        d.withdraw_consent(subject=s, purpose=P)
    for s in people[100:105]:  # refused: never consented to Q
        with pytest.raises(PolicyRefusal):
            d.verify(subject=s, purpose=Q, image=faces["obama"])
    enrolled = {"obama": people[0], "biden": people[1], "lennon1": people[2]}
    for photo, subject in enrolled.items():
        d.enroll(subject=subject, purpose=P, image=faces[photo])
    d.enroll(subject=people[0], purpose=Q, image=faces["obama"])
    withdrawn = people[3]
    d.enroll(subject=withdrawn, purpose=P, image=faces["lennon2"])
    raw = sqlite3.connect(db)
    template = raw.execute("SELECT * FROM templates WHERE subject_id = ?",
                           (withdrawn,)).fetchone()
    consents = raw.execute("SELECT * FROM consent_events WHERE subject_id = ?",
                           (withdrawn,)).fetchall()
    raw.close()
    d.withdraw_consent(subject=withdrawn, purpose=P)
    d.verify(subject=people[0], purpose=P, image=faces["obama2"])
    d.identify(purpose=P, image=faces["obama2"])
    d.close()
    return Populated(db=db, keys=Path(f"{db}.keys"), enrolled=enrolled, withdrawn=withdrawn,
                     withdrawn_template=tuple(template), withdrawn_consents=consents,
                     staff=staff)
