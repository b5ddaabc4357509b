"""Jurisdiction profiles are data: thresholds, minor ages, consent forms, rules, citations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from facegate.errors import InvalidArgument
from facegate.jurisdictions import DEFAULT_PROFILE, PROFILES, ConsentForm, get_profile
from facegate.subjects.models import AgeBand, Subject, is_minor

IN_SCOPE = {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13",
            "R14", "R17", "R18", "R21", "R22", "R24"}


def test_the_four_profiles_and_their_thresholds() -> None:
    assert DEFAULT_PROFILE == "cn-2025"
    table = {k: (p.filing_threshold, p.minor_age, p.consent_form, p.reviewers_required)
             for k, p in PROFILES.items()}
    assert table == {
        "cn-2025": (100_000, 14, ConsentForm.SEPARATE, 1),
        "cn-2023-draft": (10_000, 14, ConsentForm.SEPARATE, 1),
        "eu-gdpr-ai-act": (None, 16, ConsentForm.EXPLICIT, 2),
        "us-il-bipa": (None, None, ConsentForm.WRITTEN_RELEASE, 1),
    }
    assert PROFILES["us-il-bipa"].retention_cap_days == 3 * 365 + 1
    with pytest.raises(InvalidArgument):
        get_profile("cn-2019")


def test_every_applied_rule_cites_a_provision() -> None:
    for profile in PROFILES.values():
        assert profile.rules <= IN_SCOPE
        for rule in profile.rules:
            assert profile.article(rule), (profile.key, rule)
    assert PROFILES["cn-2025"].rules == IN_SCOPE - {"R22"}
    assert PROFILES["us-il-bipa"].applies("R22")
    assert not PROFILES["eu-gdpr-ai-act"].applies("R17")
    assert PROFILES["cn-2025"].article("R17") == "Art. 15"


def test_minor_age_follows_the_profile() -> None:
    now = datetime(2025, 9, 1, tzinfo=UTC)
    fifteen = Subject(id="s", external_ref=None, birth_date=date(2010, 1, 1), age_band=None,
                      registered_at=now)
    banded = Subject(id="s", external_ref=None, birth_date=None, age_band=AgeBand.FROM_14_TO_15,
                     registered_at=now)
    for subject in (fifteen, banded):
        assert not is_minor(subject, minor_age=14, today=now.date())
        assert is_minor(subject, minor_age=16, today=now.date())
        assert not is_minor(subject, minor_age=None, today=now.date())
