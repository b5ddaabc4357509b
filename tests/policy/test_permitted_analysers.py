"""R11: no analyser for prohibited attributes ships, can be registered or requested."""

from __future__ import annotations

import dataclasses

import pytest

from facegate.engine.faces import Face
from facegate.errors import InvalidArgument, ProhibitedAnalysis
from facegate.jurisdictions import EU_GDPR_AI_ACT
from facegate.policy.permitted_analysers import (
    HOUSE_EXCLUDED_ATTRIBUTES,
    PROHIBITED_ATTRIBUTES,
    Analyser,
    shipped_analysers,
)


def test_r11_shipped_registry_is_clean() -> None:
    registry = shipped_analysers()
    assert registry.names() == ["descriptor", "detection", "landmarks", "quality"]
    outputs = {word for a in registry.all() for word in a.produces}
    assert not outputs & (PROHIBITED_ATTRIBUTES | HOUSE_EXCLUDED_ATTRIBUTES)
    face_fields = {f.name for f in dataclasses.fields(Face)}
    assert not face_fields & (PROHIBITED_ATTRIBUTES | HOUSE_EXCLUDED_ATTRIBUTES)


@pytest.mark.parametrize("name, produces", [
    ("ethnicity", {"label"}), ("mood-detector", {"Emotion"}), ("attrs", {"political opinion"}),
    ("health", {"score"}), ("agegender", {"age"}), ("class", {"label"}),
])
def test_r11_registering_a_prohibited_analyser_raises(name: str, produces: set[str]) -> None:
    registry = shipped_analysers()
    with pytest.raises(ProhibitedAnalysis) as exc:
        registry.register(Analyser(name, frozenset(produces), "no"))
    assert exc.value.code == "analysis.prohibited"
    assert exc.value.details["rule"] == "R11"
    assert name not in registry.names()


def test_r11_requesting_a_prohibited_analysis_raises_and_allowed_ones_resolve() -> None:
    registry = shipped_analysers(EU_GDPR_AI_ACT)
    with pytest.raises(ProhibitedAnalysis) as exc:
        registry.require("race")
    assert exc.value.citation() == "R11 eu-gdpr-ai-act AI Act Art. 5(1)(f)(g); GDPR Art. 9"
    with pytest.raises(ProhibitedAnalysis):
        registry.require("sexual orientation")
    assert registry.require("quality").name == "quality"
    with pytest.raises(InvalidArgument):
        registry.require("liveness")
    registry.register(Analyser("liveness", frozenset({"liveness_score"}), "anti-spoofing"))
    assert registry.require("liveness").produces == {"liveness_score"}
