"""The policy layer on plain data: decisions, reasons, routes and grants. No engine, no store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from facegate.consent.ledger import ConsentState, GivenBy
from facegate.errors import (
    ConsentRequired,
    GrantInvalid,
    ImageRetentionRefused,
    InvalidArgument,
    LivenessRequired,
)
from facegate.jurisdictions import CN_2025, EU_GDPR_AI_ACT, US_IL_BIPA, ConsentMethod
from facegate.organisation.models import Site, SiteType
from facegate.policy import gate
from facegate.policy.decision import Grant, Operation, Outcome
from facegate.policy.facts import ProcessingRequest, SubjectFacts
from facegate.purposes.models import Mode, Purpose, PurposeStatus, StorageMode

NOW = datetime(2025, 9, 1, tzinfo=UTC)
SITE = Site(key="hq", name="HQ", site_type=SiteType.OFFICE, public_place=False,
            capture_zone=None, signage_attested=False, registered_at=NOW)
PURPOSE = Purpose(key="access.office", site_key="hq", description="door", necessity="n",
                  legal_basis="consent", modes=frozenset({Mode.VERIFY}), alternatives=("badge",),
                  mandate=None, retention_days=30, storage_mode=StorageMode.DEVICE,
                  liveness_required=False, public_security=False, threshold=0.4,
                  status=PurposeStatus.ACTIVE, registered_at=NOW, updated_at=NOW)
GRANTED = ConsentState(granted=True, withdrawn=False, notice_version=1,
                       given_by=GivenBy.SUBJECT, guardian_name=None, since=NOW)
NONE = ConsentState(granted=False, withdrawn=False, notice_version=None, given_by=None,
                    guardian_name=None, since=None)


def request(**changes: object) -> ProcessingRequest:
    base = ProcessingRequest(operation=Operation.VERIFY, profile=CN_2025,
                             purpose_key=PURPOSE.key, purpose=PURPOSE, site=SITE,
                             notice_version=1, assessment_current=True, now=NOW,
                             subject=SubjectFacts(id="s_1", minor=False, consent=GRANTED))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_allowed_request_mints_a_grant_for_exactly_that_operation() -> None:
    assert gate.check(request()).outcome is Outcome.ALLOW
    grant = gate.require(request())
    assert (grant.operation, grant.purpose_key, grant.subject_id) == (Operation.VERIFY,
                                                                      PURPOSE.key, "s_1")
    grant.ensure_covers(Operation.VERIFY, purpose_key=PURPOSE.key, subject_id="s_1")
    with pytest.raises(GrantInvalid):
        grant.ensure_covers(Operation.ENROLL, purpose_key=PURPOSE.key, subject_id="s_1")
    with pytest.raises(GrantInvalid):
        grant.ensure_covers(Operation.VERIFY, purpose_key=PURPOSE.key, subject_id="s_2")


def test_grants_cannot_be_forged_or_altered_outside_policy() -> None:
    with pytest.raises(GrantInvalid):
        Grant(operation=Operation.ENROLL, purpose_key="access.office", subject_id="s_1",
              jurisdiction="cn-2025", issued_at=NOW, seal=b"\x00" * 32)
    grant = gate.require(request())
    with pytest.raises(GrantInvalid):
        dataclasses.replace(grant, purpose_key="hr.attendance")
    with pytest.raises(GrantInvalid):
        dataclasses.replace(grant, operation=Operation.ENROLL)
    assert dataclasses.replace(grant) == grant  # an unchanged copy keeps its valid seal


def test_refusal_carries_every_reason_with_rule_jurisdiction_and_article() -> None:
    req = request(subject=SubjectFacts(id="s_1", minor=True, consent=NONE),
                  assessment_current=False)
    decision = gate.check(req)
    assert decision.outcome is Outcome.REFUSE
    assert [(r.rule, r.code) for r in decision.reasons] == [
        ("R14", "assessment.missing"), ("R2", "consent.missing")]
    assert {r.jurisdiction for r in decision.reasons} == {"cn-2025"}
    with pytest.raises(Exception) as exc:
        gate.require(req)
    assert exc.value.details["rule"] == "R14"  # type: ignore[attr-defined]
    assert len(exc.value.details["reasons"]) == 2  # type: ignore[attr-defined]


def test_declining_routes_to_the_alternative_and_require_will_not_grant() -> None:
    decision = gate.check(request(declined=True, subject=None))
    assert decision.outcome is Outcome.ROUTE_TO_ALTERNATIVE
    assert decision.alternatives == ("badge",)
    with pytest.raises(InvalidArgument):
        gate.require(request(declined=True))


def test_r10_keeping_raw_images_needs_separate_consent() -> None:
    req = request(operation=Operation.ENROLL, retain_image=True)
    with pytest.raises(ImageRetentionRefused) as exc:
        gate.require(req)
    assert exc.value.details["rule"] == "R10"
    allowed = request(operation=Operation.ENROLL, retain_image=True,
                      subject=SubjectFacts(id="s_1", minor=False, consent=GRANTED,
                                           retain_image_consent=True))
    assert gate.check(allowed).allowed
    assert gate.check(request(operation=Operation.ENROLL)).allowed


def test_profiles_cite_their_own_law() -> None:
    req = request(profile=EU_GDPR_AI_ACT, subject=SubjectFacts(id="s", minor=False,
                                                               consent=NONE))
    with pytest.raises(ConsentRequired) as exc:
        gate.require(req)
    assert exc.value.citation() == "R2 eu-gdpr-ai-act GDPR Art. 9(2)(a)"


def test_consent_form_follows_the_profile() -> None:
    def decide(profile: object, method: ConsentMethod, minor: bool = False) -> list[str]:
        return [r.rule for r in gate.check_consent(
            purpose=PURPOSE, separate=True, notice_version=1, current_notice=1, method=method,
            minor=minor, guardian_name=None, profile=profile).reasons]  # type: ignore[arg-type]

    assert decide(US_IL_BIPA, ConsentMethod.ON_SCREEN) == ["R3"]  # BIPA: written release
    assert decide(US_IL_BIPA, ConsentMethod.ELECTRONIC_SIGNATURE) == []
    assert decide(US_IL_BIPA, ConsentMethod.WRITTEN, minor=True) == []  # no R5 in BIPA
    assert decide(CN_2025, ConsentMethod.ON_SCREEN, minor=True) == ["R5"]


def test_h1_a_purpose_requiring_liveness_needs_a_consumed_receipt() -> None:
    live = dataclasses.replace(PURPOSE, liveness_required=True)
    for state in (None, "missing", "unknown", "used", "expired", "other_purpose"):
        decision = gate.check(request(purpose=live, liveness=state))
        assert decision.outcome is Outcome.REFUSE
        first = decision.reasons[0]
        assert (first.rule, first.code, first.article) == ("H1", "liveness.required",
                                                           "house rule")
    assert gate.check(request(purpose=live, liveness="passed")).allowed
    assert gate.check(request(liveness=None)).allowed  # the purpose does not require it
    with pytest.raises(LivenessRequired):
        gate.require(request(purpose=live, operation=Operation.ENROLL))
