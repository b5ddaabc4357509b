"""Jurisdiction profiles: the law a deployment runs under, as data.

A profile says which rules (R-ids of ``docs/governed.md``) apply, which
article each one enforces, what form consent must take, the age under which
a guardian consents, the filing threshold and deadline, retention caps and how
many reviewers confirm an identification. Policy code reads these fields; it
never branches on a profile's name.

``cn-2025`` (the CAC + MPS Measures in force since 1 June 2025) is the default.
Article numbers follow ``docs/regulation.md``; the 2023 draft's numbers are
unconfirmed there, so its citations name the draft provision instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .errors import InvalidArgument

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "ConsentForm",
    "ConsentMethod",
    "JurisdictionProfile",
    "get_profile",
]


class ConsentForm(StrEnum):
    """The form consent must take under a profile."""

    SEPARATE = "separate"  # PIPL 29 / CN Art. 6: its own act, not bundled
    EXPLICIT = "explicit"  # GDPR Art. 9(2)(a)
    WRITTEN_RELEASE = "written_release"  # BIPA 15(b)(3)


class ConsentMethod(StrEnum):
    """How a consent or withdrawal was given."""

    WRITTEN = "written"
    ELECTRONIC_SIGNATURE = "electronic_signature"
    ON_SCREEN = "on_screen"  # an explicit tap on a screen showing the notice
    RECORDED_VERBAL = "recorded_verbal"


@dataclass(frozen=True, slots=True)
class JurisdictionProfile:
    """The rules of one jurisdiction, as facegate enforces them.

    Args:
        key: stable profile name, stored with the processor.
        title: what law the profile stands for.
        rules: the R-ids that apply.
        articles: for each R-id, the provision it enforces.
        consent_form: the form consent must take.
        consent_methods: methods that satisfy ``consent_form``.
        minor_age: under this age a guardian consents (R5); ``None``: no age rule.
        filing_threshold: stored individuals at which a filing is due (R17);
            ``None``: no filing duty.
        early_warning_share: share of the threshold that raises an early warning.
        filing_working_days: Chinese working days to file after the trigger.
        retention_cap_days: longest retention a purpose may declare (R9);
            ``None``: only "shortest necessary", declared per purpose.
        assessment_keep_days: how long an impact assessment must be kept (R14).
        reviewers_required: distinct reviewers who confirm a 1:N hit.
        default_population: the population a purpose serves unless the deployer
            names another (a key of ``facegate.calibration.shipped.POPULATIONS``):
            its threshold comes from that population's calibration (R21).
        languages: the languages every text a subject or regulator reads must be
            written in before a purpose goes live (R6: the notice, and the records
            it is generated from).
    """

    key: str
    title: str
    rules: frozenset[str]
    articles: Mapping[str, str]
    consent_form: ConsentForm
    consent_methods: frozenset[ConsentMethod]
    minor_age: int | None
    filing_threshold: int | None
    early_warning_share: float
    filing_working_days: int
    retention_cap_days: int | None
    assessment_keep_days: int
    reviewers_required: int
    default_population: str = "east-asian-adults"
    languages: tuple[str, ...] = ("zh", "en")

    def applies(self, rule: str) -> bool:
        """Whether rule ``rule`` (an R-id) applies under this profile."""
        return rule in self.rules

    def article(self, rule: str) -> str:
        """The provision behind ``rule``, or ``"house rule"`` where the law has none."""
        return self.articles.get(rule, "house rule")


_ALL_METHODS: Final = frozenset(ConsentMethod)
_THREE_YEARS: Final = 3 * 365 + 1

CN_2025: Final = JurisdictionProfile(
    key="cn-2025",
    title="CAC + MPS Face Recognition Measures (Order No. 19, in force 2025-06-01) and PIPL",
    rules=frozenset({"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11",
                     "R12", "R13", "R14", "R17", "R18", "R21", "R24"}),
    articles=MappingProxyType({
        "R1": "Art. 4", "R2": "Art. 6", "R3": "Art. 5-6", "R4": "Art. 6; PIPL 15, 47",
        "R5": "Art. 7", "R6": "Art. 5", "R7": "Art. 10", "R8": "Art. 8", "R9": "Art. 8",
        "R10": "Art. 4, 8", "R11": "2023 draft; kept as a house rule", "R12": "Art. 13",
        "R13": "Art. 13; PIPL 26", "R14": "Art. 9; PIPL 55-56", "R17": "Art. 15",
        "R18": "Art. 15", "R21": "Art. 4 (strict protective measures)", "R24": "Art. 2",
    }),
    consent_form=ConsentForm.SEPARATE,
    consent_methods=_ALL_METHODS,
    minor_age=14,
    filing_threshold=100_000,
    early_warning_share=0.9,
    filing_working_days=30,
    retention_cap_days=None,
    assessment_keep_days=_THREE_YEARS,
    reviewers_required=1,
)

CN_2023_DRAFT: Final = JurisdictionProfile(
    key="cn-2023-draft",
    title="CAC draft Face Recognition Provisions (8 Aug 2023, comment draft)",
    rules=CN_2025.rules,
    articles=MappingProxyType({
        "R1": "draft Art. 4", "R2": "draft (separate consent)", "R3": "draft (separate consent)",
        "R4": "PIPL 15, 47", "R5": "draft (under-14 guardian consent)", "R6": "PIPL 17, 30",
        "R7": "draft Art. 4", "R8": "PIPL 38-39", "R9": "PIPL 19, 47",
        "R10": "draft (images, unconfirmed)", "R11": "draft (sensitive-attribute ban)",
        "R12": "draft (private spaces)", "R13": "draft (public places)",
        "R14": "draft (PIA); PIPL 55-56", "R17": "draft (filing over 10,000 people)",
        "R18": "draft (filing)", "R21": "draft Art. 4; PIPL 51", "R24": "PIPL 13",
    }),
    consent_form=ConsentForm.SEPARATE,
    consent_methods=_ALL_METHODS,
    minor_age=14,
    filing_threshold=10_000,
    early_warning_share=0.9,
    filing_working_days=30,
    retention_cap_days=None,
    assessment_keep_days=_THREE_YEARS,
    reviewers_required=1,
)

EU_GDPR_AI_ACT: Final = JurisdictionProfile(
    key="eu-gdpr-ai-act",
    title="GDPR (Arts. 5, 7-9, 13, 35) and the EU AI Act (Arts. 5, 14)",
    rules=frozenset({"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11",
                     "R12", "R13", "R14", "R21", "R24"}),
    articles=MappingProxyType({
        "R1": "GDPR Art. 5(1)(b)", "R2": "GDPR Art. 9(2)(a)", "R3": "GDPR Art. 7",
        "R4": "GDPR Art. 7(3), 17", "R5": "GDPR Art. 8", "R6": "GDPR Art. 13",
        "R7": "GDPR Art. 7(4)", "R8": "GDPR Ch. V", "R9": "GDPR Art. 5(1)(e)",
        "R10": "GDPR Art. 5(1)(c)", "R11": "AI Act Art. 5(1)(f)(g); GDPR Art. 9",
        "R12": "GDPR Art. 5(1)(c)", "R13": "AI Act Art. 5(1)(h)", "R14": "GDPR Art. 35",
        "R19": "AI Act Art. 14(5)", "R20": "AI Act Art. 12(3)", "R21": "AI Act Art. 10, 15(3)",
        "R24": "AI Act Art. 10",
    }),
    consent_form=ConsentForm.EXPLICIT,
    consent_methods=_ALL_METHODS,
    minor_age=16,
    filing_threshold=None,
    early_warning_share=0.9,
    filing_working_days=30,
    retention_cap_days=None,
    assessment_keep_days=_THREE_YEARS,
    reviewers_required=2,
    # The only other population with shipped calibrations; deployers calibrate their own.
    default_population="lfw-view1",
)

US_IL_BIPA: Final = JurisdictionProfile(
    key="us-il-bipa",
    title="Illinois Biometric Information Privacy Act (740 ILCS 14), as amended 2024",
    rules=frozenset({"R1", "R2", "R3", "R4", "R6", "R8", "R9", "R10", "R11", "R12", "R14",
                     "R21", "R22", "R24"}),
    articles=MappingProxyType({
        "R1": "BIPA 15(b)(2)", "R2": "BIPA 15(b)", "R3": "BIPA 15(b)(3)", "R4": "BIPA 15(a)",
        "R6": "BIPA 15(b)(1)-(2)", "R8": "BIPA 15(d)", "R9": "BIPA 15(a)",
        "R10": "BIPA 15(e)", "R11": "BIPA 15(c)", "R12": "house rule", "R14": "house rule",
        "R21": "house rule", "R22": "BIPA 15(a)", "R24": "BIPA 15(c)",
    }),
    consent_form=ConsentForm.WRITTEN_RELEASE,
    consent_methods=frozenset({ConsentMethod.WRITTEN, ConsentMethod.ELECTRONIC_SIGNATURE}),
    minor_age=None,
    filing_threshold=None,
    early_warning_share=0.9,
    filing_working_days=30,
    retention_cap_days=_THREE_YEARS,
    assessment_keep_days=_THREE_YEARS,
    reviewers_required=1,
    # The only other population with shipped calibrations; deployers calibrate their own.
    default_population="lfw-view1",
)

PROFILES: Final = MappingProxyType({p.key: p for p in
                                    (CN_2025, CN_2023_DRAFT, EU_GDPR_AI_ACT, US_IL_BIPA)})
DEFAULT_PROFILE: Final = CN_2025.key


def get_profile(key: str) -> JurisdictionProfile:
    """The profile named ``key``.

    Raises:
        InvalidArgument: no such profile.
    """
    try:
        return PROFILES[key]
    except KeyError:
        raise InvalidArgument(
            f"unknown jurisdiction profile {key!r}; known: {', '.join(sorted(PROFILES))}",
            details={"jurisdiction": key, "known": sorted(PROFILES)},
        ) from None
