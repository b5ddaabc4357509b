"""The consent ledger: append-only events, state derived by folding them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facegate.consent.ledger import ConsentEvent, ConsentKind, ConsentScope, GivenBy, current_state
from facegate.deployment import Deployment
from facegate.jurisdictions import ConsentMethod

from ..support.governed import consent

T0 = datetime(2025, 9, 1, tzinfo=UTC)


def event(seq: int, kind: ConsentKind, notice: int | None = 1) -> ConsentEvent:
    return ConsentEvent(subject_id="s", purpose_key="p", scope=ConsentScope.BIOMETRIC, kind=kind,
                        notice_version=notice, method=ConsentMethod.WRITTEN, separate=True,
                        given_by=GivenBy.SUBJECT, guardian_name=None, guardian_relation=None,
                        operator="op", recorded_at=T0 + timedelta(minutes=seq), seq=seq)


def test_state_is_the_latest_event() -> None:
    assert not current_state([]).granted and not current_state([]).withdrawn
    granted = current_state([event(1, ConsentKind.GRANTED)])
    assert granted.granted and granted.notice_version == 1
    withdrawn = current_state([event(1, ConsentKind.GRANTED), event(2, ConsentKind.WITHDRAWN)])
    assert withdrawn.withdrawn and not withdrawn.granted
    again = current_state([event(3, ConsentKind.GRANTED, 2), event(1, ConsentKind.GRANTED),
                           event(2, ConsentKind.WITHDRAWN)])
    assert again.granted and again.notice_version == 2


def test_withdrawal_appends_and_never_rewrites(books: Deployment) -> None:
    alice = books.register_subject(age_band="adult")
    consent(books, alice.id, "access.office.entry")
    books.withdraw_consent(subject=alice.id, purpose="access.office.entry")
    consent(books, alice.id, "access.office.entry")
    rows = books.connection.execute(
        "SELECT kind FROM consent_events WHERE subject_id = ? ORDER BY seq", (alice.id,))
    assert [r[0] for r in rows] == ["granted", "withdrawn", "granted"]
    names = [e.name for e in books.audit_events() if e.subject_id == alice.id]
    assert names == ["subject-registered", "consent-granted", "consent-withdrawn",
                     "consent-granted"]
