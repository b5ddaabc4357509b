"""R17 and R18: the filing counter, with 99,999 stored individuals seeded in bulk.

The seeded subjects carry one synthetic template each (a fixed unit vector),
inserted with the repository's batch functions in one transaction; the
threshold-crossing enrollments are real faces through the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from facegate.audit.integrity import RowGuard
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.engine.faces import Descriptor
from facegate.filing.counter import FilingKind
from facegate.storage.db import transaction
from facegate.subjects.models import AgeBand, Subject
from facegate.subjects.repository import insert_subjects
from facegate.templates.keys import DataKeys
from facegate.templates.store import insert_templates

from ..support.governed import add_purpose, consent
from ..support.words import both

ACCESS = "access.office.entry"
ATTENDANCE = "hr.attendance"
# 10:00 in China on Friday 26 September 2025, before the National Day holiday.
THRESHOLD_DAY = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)


def seed(d: Deployment, start: int, count: int, *, now: datetime, doubles: int = 0) -> None:
    """Store ``count`` synthetic individuals; the first ``doubles`` also under a second purpose."""
    vector = np.zeros(128, dtype=np.float32)
    vector[0] = 1.0
    synthetic = Descriptor(vector=vector, pack="dlib-resnet-v1", pack_version="1.0")
    ids = [f"s_seed{i:010d}" for i in range(start, start + count)]
    later = now + timedelta(days=365)
    keys = DataKeys(d.connection, ring=d.key_ring, now=now,
                    guard=RowGuard(d.connection, d.row_mac))
    with transaction(d.connection):
        insert_subjects(d.connection, subjects=(
            Subject(id=i, external_ref=None, birth_date=None, age_band=AgeBand.ADULT,
                    registered_at=now) for i in ids))
        insert_templates(d.connection, keys=keys, rows=(
            (i, ACCESS, "hq.lobby", synthetic, now, later) for i in ids))
        insert_templates(d.connection, keys=keys, rows=(
            (i, ATTENDANCE, "hq.lobby", synthetic, now, later) for i in ids[:doubles]))


def _books(open_deployment: Callable[..., Deployment], jurisdiction: str) -> Deployment:
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction=jurisdiction,
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ACCESS)
    add_purpose(d, ATTENDANCE)
    return d


def test_r17_filing_at_100000_individuals_due_in_30_chinese_working_days(
        open_deployment: Callable[..., Deployment], clock: FixedClock,
        faces: dict[str, Path]) -> None:
    d = _books(open_deployment, "cn-2025")
    clock.set(THRESHOLD_DAY - timedelta(days=3))
    seed(d, 0, 99_999, now=clock.now(), doubles=5_000)
    status = d.filing_status()
    assert (status.individuals, status.records) == (99_999, ())

    clock.set(THRESHOLD_DAY)
    # Duplicates do not count: a stored individual enrolled again, and under another purpose.
    stored = "s_seed0000000007"
    consent(d, stored, ACCESS)
    consent(d, stored, ATTENDANCE)
    d.enroll(subject=stored, purpose=ACCESS, image=faces["obama"])
    d.enroll(subject=stored, purpose=ATTENDANCE, image=faces["obama2"])
    status = d.filing_status()
    assert status.individuals == 99_999
    assert status.records == ()

    # The 100,000th individual creates the filing record (and the overdue early warning).
    bob = d.register_subject(age_band="adult")
    consent(d, bob.id, ACCESS)
    d.enroll(subject=bob.id, purpose=ACCESS, image=faces["biden"])
    status = d.filing_status()
    assert status.individuals == 100_000
    assert [r.kind for r in status.records] == [FilingKind.EARLY_WARNING, FilingKind.FILING]
    record = status.records[1]
    assert record.triggered_on == date(2025, 9, 26)
    assert record.due_on == date(2025, 11, 13)  # across National Day; plain weekdays: Nov 7
    assert record.individuals == 100_000 and record.threshold == 100_000
    assert record.content["processor"]["credit_code"] == "91310000EXAMPLE00X"
    assert {p["purpose"] for p in record.content["purposes_and_methods"]} == {ACCESS, ATTENDANCE}
    assert record.content["security_measures"] == {"zh": "设备本地存储", "en": "device storage"}
    assert len(record.content["impact_assessments"]) == 2
    assert [e.name for e in d.audit_events() if e.name.startswith("filing-")] == [
        "filing-early_warning", "filing-filing"]

    # Further individuals do not file again.
    carol = d.register_subject(age_band="adult")
    consent(d, carol.id, ACCESS)
    d.enroll(subject=carol.id, purpose=ACCESS, image=faces["lennon1"])
    assert [r.kind for r in d.filing_records()].count(FilingKind.FILING) == 1


def test_r17_cn_2023_draft_files_at_10000_and_bipa_never(
        open_deployment: Callable[..., Deployment], clock: FixedClock,
        faces: dict[str, Path]) -> None:
    d = _books(open_deployment, "cn-2023-draft")
    clock.set(THRESHOLD_DAY)
    seed(d, 0, 9_999, now=clock.now())
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    kinds = [r.kind for r in d.filing_records()]
    assert kinds == [FilingKind.EARLY_WARNING, FilingKind.FILING]
    assert d.filing_records()[1].due_on == date(2025, 11, 13)
    assert d.filing_status().threshold == 10_000

    bipa = _books(lambda: open_deployment("bipa.db"), "us-il-bipa")
    seed(bipa, 0, 10_000, now=clock.now())
    bob = bipa.register_subject()
    consent(bipa, bob.id, ACCESS, method="electronic_signature")
    bipa.enroll(subject=bob.id, purpose=ACCESS, image=faces["biden"])
    assert bipa.filing_status().threshold is None
    assert bipa.filing_records() == []


def test_r18_material_change_after_filing_makes_a_change_record(
        open_deployment: Callable[..., Deployment], clock: FixedClock,
        faces: dict[str, Path]) -> None:
    d = _books(open_deployment, "cn-2023-draft")
    # Before any filing, changes write nothing.
    d.register_site(key="hq.dock", name=both("Dock"), site_type="building_entrance")
    assert d.filing_records() == []
    clock.set(THRESHOLD_DAY)
    seed(d, 0, 9_999, now=clock.now())
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert FilingKind.FILING in [r.kind for r in d.filing_records()]

    # Friday 6 February 2026, before the Spring Festival.
    clock.set(datetime(2026, 2, 6, 2, 0, tzinfo=UTC))
    add_purpose(d, "access.canteen")
    d.update_purpose(ATTENDANCE, storage_mode="central")
    d.register_site(key="hq.school", name=both("Training school"), site_type="school")
    d.register_site(key="hq.side", name=both("Side door"), site_type="office")  # known type
    d.update_purpose(ACCESS, threshold=0.35)  # not a method change
    changes = [r for r in d.filing_records() if r.kind is FilingKind.CHANGE]
    assert [r.reason for r in changes] == [
        "new purpose access.canteen",
        "purpose hr.attendance changed method: storage_mode",
        "new site type school",
    ]
    assert {r.due_on for r in changes} == {date(2026, 3, 26)}


def test_r17_early_warning_share_is_configurable(
        open_deployment: Callable[..., Deployment], clock: FixedClock,
        faces: dict[str, Path]) -> None:
    d = _books(lambda: open_deployment(warning_share=0.5), "cn-2023-draft")
    clock.set(THRESHOLD_DAY)
    seed(d, 0, 4_998, now=clock.now())
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert d.filing_records() == []  # 4,999
    bob = d.register_subject(age_band="adult")
    consent(d, bob.id, ACCESS)
    d.enroll(subject=bob.id, purpose=ACCESS, image=faces["biden"])
    status = d.filing_status()
    assert (status.individuals, status.warning_at) == (5_000, 5_000)
    assert [r.kind for r in status.records] == [FilingKind.EARLY_WARNING]
