"""Assertions on refusals: the error class, its code and the rule it cites."""

from __future__ import annotations

from facegate.errors import PolicyRefusal


def assert_refused(exc: BaseException, code: str, rule: str, jurisdiction: str = "cn-2025") -> None:
    """``exc`` is a policy refusal with ``code`` citing ``rule`` of ``jurisdiction``."""
    assert isinstance(exc, PolicyRefusal), repr(exc)
    assert exc.code == code, exc.to_dict()
    assert exc.details["rule"] == rule, exc.to_dict()
    assert exc.details["jurisdiction"] == jurisdiction, exc.to_dict()
    assert exc.details["article"], exc.to_dict()
