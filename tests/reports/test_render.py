"""A record's text cannot leave the document's style sheet.

Found: the processor's name went unescaped into the page header's CSS string, inside
the document's ``<style>``: ``</style><meta http-equiv=refresh ...>`` ended the style
sheet and ran as HTML. Every character but letters, digits and a few plain marks is
now a CSS escape there.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from facegate.reports.models import Lang, ReportKind, ReportModel

EVIL = '</style><meta http-equiv="refresh" content="0;url=https://evil.example">"\\'


@pytest.mark.parametrize("lang", list(Lang))
def test_a_processor_name_cannot_end_the_style_sheet(lang: Lang) -> None:
    pytest.importorskip("jinja2", reason="rendering needs the reports extra (jinja2)")
    from facegate.reports.render import render_html

    report = ReportModel(kind=ReportKind.SUMMARY, lang=lang, title=f"Summary {EVIL}",
                         subtitle="", processor=EVIL, profile="cn-2025",
                         generated_at=datetime(2025, 9, 1, tzinfo=UTC), audit_seq=7,
                         sections=())
    html = render_html(report)
    style = html[html.index("<style>"):html.index("</style>") + len("</style>")]
    assert html.count("</style>") == 1 and "<meta http-equiv" not in html
    assert "evil.example" in style  # still there, as escaped text of the header
    assert "\\3c \\2f style\\3e " in style
    assert "&lt;/style&gt;" in html  # and in the body, HTML-escaped as before
