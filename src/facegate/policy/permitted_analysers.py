"""The registry of face analysers, which cannot hold a prohibited one (R11).

An analyser is a named step that produces something from a face: a box,
landmarks, a quality report, a descriptor. Nothing may infer race, ethnicity,
religion, health, social class, political opinion, trade-union membership,
sex life or sexual orientation, or emotion (2023 CN draft; EU AI Act
Art. 5(1)(f)(g); GDPR Art. 9); by house rule, neither age nor sex
(``house-style.md`` 18). Registering such an analyser, or asking for one,
raises :class:`~facegate.errors.ProhibitedAnalysis`.

The registry is built by :func:`shipped_analysers`; there is no global.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ..errors import InvalidArgument, ProhibitedAnalysis
from ..jurisdictions import CN_2025, JurisdictionProfile

__all__ = [
    "HOUSE_EXCLUDED_ATTRIBUTES",
    "PROHIBITED_ATTRIBUTES",
    "Analyser",
    "AnalyserRegistry",
    "shipped_analysers",
]

#: Attributes no analyser may infer (R11), by law or regulators' guidance.
PROHIBITED_ATTRIBUTES: Final = frozenset({
    "race", "ethnicity", "religion", "health", "social_class", "political_opinion",
    "trade_union_membership", "sex_life", "sexual_orientation", "emotion",
})
#: Attributes facegate refuses to infer by house rule.
HOUSE_EXCLUDED_ATTRIBUTES: Final = frozenset({"age", "sex", "gender"})

_SYNONYMS: Final = {
    "ethnic": "ethnicity", "ethnic_origin": "ethnicity", "racial_origin": "race",
    "religious_belief": "religion", "belief": "religion", "disability": "health",
    "medical": "health", "class": "social_class", "politics": "political_opinion",
    "political": "political_opinion", "sexuality": "sexual_orientation",
    "mood": "emotion", "expression": "emotion", "affect": "emotion",
}


def _normalise(word: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", word.lower()).strip("_")
    return _SYNONYMS.get(key, key)


def _forbidden(word: str) -> str | None:
    key = _normalise(word)
    if key in PROHIBITED_ATTRIBUTES or key in HOUSE_EXCLUDED_ATTRIBUTES:
        return key
    return None


@dataclass(frozen=True, slots=True)
class Analyser:
    """A step that produces ``produces`` from a face."""

    name: str
    produces: frozenset[str]
    description: str


class AnalyserRegistry:
    """Analysers by name. Adding or requesting a prohibited one raises (R11).

    Args:
        profile: the jurisdiction profile whose article a refusal cites.
    """

    def __init__(self, profile: JurisdictionProfile = CN_2025) -> None:
        self._profile = profile
        self._analysers: dict[str, Analyser] = {}

    def _refuse(self, attribute: str) -> ProhibitedAnalysis:
        house = attribute in HOUSE_EXCLUDED_ATTRIBUTES
        return ProhibitedAnalysis(
            f"facegate does not infer {attribute.replace('_', ' ')} from faces"
            + (" (house rule)" if house else ""),
            details={"rule": "R11", "jurisdiction": self._profile.key,
                     "article": "house rule" if house else self._profile.article("R11"),
                     "attribute": attribute})

    def register(self, analyser: Analyser) -> None:
        """Add ``analyser``.

        Raises:
            ProhibitedAnalysis: its name or output is a prohibited attribute.
        """
        for word in (analyser.name, *analyser.produces):
            attribute = _forbidden(word)
            if attribute is not None:
                raise self._refuse(attribute)
        self._analysers[analyser.name] = analyser

    def require(self, name: str) -> Analyser:
        """The analyser called ``name``.

        Raises:
            ProhibitedAnalysis: ``name`` is a prohibited attribute.
            InvalidArgument: no such analyser.
        """
        attribute = _forbidden(name)
        if attribute is not None:
            raise self._refuse(attribute)
        try:
            return self._analysers[name]
        except KeyError:
            raise InvalidArgument(f"no analyser {name!r}; available: {', '.join(self.names())}",
                                  details={"analyser": name}) from None

    def names(self) -> list[str]:
        return sorted(self._analysers)

    def all(self) -> list[Analyser]:
        return [self._analysers[n] for n in self.names()]


def shipped_analysers(profile: JurisdictionProfile = CN_2025) -> AnalyserRegistry:
    """The analysers facegate ships: detection, landmarks, quality, descriptor."""
    registry = AnalyserRegistry(profile)
    for analyser in (
        Analyser("detection", frozenset({"box", "score"}), "where the faces are"),
        Analyser("landmarks", frozenset({"landmarks"}), "5 or 68 facial points"),
        Analyser("quality", frozenset({"size", "sharpness", "pose", "brightness"}),
                 "whether a face is good enough to enroll"),
        Analyser("descriptor", frozenset({"descriptor"}), "the template vector"),
    ):
        registry.register(analyser)
    return registry
