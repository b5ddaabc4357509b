"""docs/governed.md documents every governed error code and every rule in scope."""

from __future__ import annotations

from pathlib import Path

from facegate.errors import (
    FilingCalendarUnavailable,
    PolicyRefusal,
    RegistryError,
    StorageError,
    all_error_classes,
)
from facegate.jurisdictions import CN_2025

DOC = Path(__file__).resolve().parents[1] / "docs" / "governed.md"


def test_every_governed_error_code_is_documented() -> None:
    text = DOC.read_text("utf-8")
    governed = (PolicyRefusal, RegistryError, StorageError, FilingCalendarUnavailable)
    codes = [c.code for c in all_error_classes() if issubclass(c, governed)]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    missing = [code for code in codes if f"`{code}`" not in text]
    assert not missing


def test_every_rule_in_scope_has_a_row() -> None:
    text = DOC.read_text("utf-8")
    missing = [rule for rule in sorted(CN_2025.rules) if f"| {rule} |" not in text]
    assert not missing
