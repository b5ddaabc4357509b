"""Every error code and quality reason is documented, and the error shape is fixed."""

from __future__ import annotations

from pathlib import Path

from facegate.errors import Error, ImageTooLarge, all_error_classes
from facegate.quality import QualityReason

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def test_every_error_code_is_documented() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.parent.glob("*.md"))
    missing = [c.code for c in all_error_classes() if f"`{c.code}`" not in text]
    assert not missing


def test_every_quality_reason_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert not [r.value for r in QualityReason if f"`{r.value}`" not in text]


def test_codes_are_unique_and_dotted() -> None:
    codes = [c.code for c in all_error_classes() if c is not Error]
    assert len(codes) == len(set(codes))
    assert all("." in c for c in codes)


def test_one_error_shape() -> None:
    exc = ImageTooLarge("too big", details={"limit": "bytes"})
    assert exc.to_dict() == {"code": "image.too_large", "message": "too big",
                             "details": {"limit": "bytes"}}
    assert str(exc) == "image.too_large: too big"
    assert exc.http_status == 413
