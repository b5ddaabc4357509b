"""Rendering a :class:`ReportModel` as HTML (Jinja2) and as PDF (WeasyPrint).

This is the only module that imports ``weasyprint`` (and ``jinja2``); both are
imported on first use, so ``import facegate`` stays light, and a missing
package is the typed error :class:`~facegate.errors.ReportRendererMissing`.
The templates and the stylesheet ship as package data in ``templates/``.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from typing import Any, Final

from ..errors import ReportFontMissing, ReportRendererMissing
from .fonts import missing_characters
from .formats import fmt_time
from .labels import text
from .models import Document, Format, ReportModel, content_hash

__all__ = ["MEDIA_TYPES", "filename_for", "render", "render_html", "render_pdf"]

MEDIA_TYPES: Final = {Format.HTML: "text/html; charset=utf-8", Format.PDF: "application/pdf"}
_ENV: list[Any] = []


def _environment() -> Any:
    if not _ENV:
        try:
            import jinja2
        except ImportError:
            raise ReportRendererMissing(
                "rendering documents needs jinja2 and weasyprint: "
                "pip install 'facegate[reports]'", details={"package": "jinja2"}) from None
        _ENV.append(jinja2.Environment(
            loader=jinja2.PackageLoader("facegate.reports", "templates"),
            autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined))
    return _ENV[0]


#: Characters written as they are in a CSS string; anything else is hex-escaped.
_CSS_PLAIN = frozenset(" .,:;-_()·@#%+=!?*")


def _css_string(value: str) -> str:
    """``value`` as a CSS string literal (for the page's margin boxes, inside the page's
    ``<style>``): every character but letters, digits and a few plain marks is written as
    a CSS hex escape, so no quote, backslash, ``<`` or ``>`` of a record (a processor's
    name, a title) can end the string or the style sheet."""
    escaped = "".join(ch if ch.isalnum() or ch in _CSS_PLAIN else f"\\{ord(ch):x} "
                      for ch in value)
    return f'"{escaped}"'


def _page_counter(report: ReportModel) -> str:
    """The CSS ``content`` of the page counter, in the document's language."""
    label = text(report.lang, "page", page="\0page\0", pages="\0pages\0")
    parts = []
    for i, piece in enumerate(label.split("\0")):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def render_html(report: ReportModel) -> str:
    """The document as one self-contained HTML page (styles inline, figures as SVG)."""
    digest = content_hash(report)
    lang = report.lang
    when = fmt_time(lang, report.generated_at)
    position = text(lang, "audit_position.value", seq=report.audit_seq)
    footer = (f"{text(lang, 'generated_at')}: {when} · {text(lang, 'audit_position')}: "
              f"{position}\n{text(lang, 'content_hash')}: {digest}")
    return str(_environment().get_template("document.html.j2").render(
        report=report, digest=digest, when=when, position=position,
        t=lambda key, **kw: text(lang, key, **kw),
        html_lang="zh-Hans" if lang.value == "zh" else "en",
        css_header_left=_css_string(report.processor),
        css_header_right=_css_string(report.title),
        css_footer=_css_string(footer), css_page=_page_counter(report)))


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML page from :func:`render_html`.

    Raises:
        ReportFontMissing: a character of the page has no installed font (a Chinese
            document without a CJK font): it would print as an empty box.
        ReportRendererMissing: weasyprint is not installed.
    """
    missing = missing_characters(html)
    if missing:
        raise ReportFontMissing(
            f"no installed font has {len(missing)} of the document's characters "
            f"({''.join(missing[:12])}...); a PDF would show empty boxes. Install a CJK font: "
            "apt-get install fonts-noto-cjk (demo.sh does when it can)",
            details={"missing": missing[:40], "count": len(missing)})
    from PIL import ImageFile

    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported, which
    # would let facegate.images accept truncated photos from then on: put it back.
    strict = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        with warnings.catch_warnings():
            # WeasyPrint warns at import where the system lacks libharfbuzz-subset (it falls
            # back to fontTools); that is the machine's concern, not the document's.
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint
    except ImportError:
        raise ReportRendererMissing(
            "rendering PDF documents needs weasyprint: pip install 'facegate[reports]'",
            details={"package": "weasyprint"}) from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = strict
    for name in ("weasyprint", "fontTools"):  # font subsetting chatter is not a finding
        logging.getLogger(name).setLevel(logging.ERROR)
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def filename_for(report: ReportModel, fmt: Format) -> str:
    """``pia-access.office.entry-en-57.pdf``: kind, subject of the document, language,
    audit position."""
    about = report.subtitle.rsplit(" · ", 1)[-1] if " · " in report.subtitle else ""
    if report.kind.value == "access":
        about = report.subtitle
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in about)[:60].strip("-")
    stem = "-".join(p for p in (report.kind.value, safe, report.lang.value,
                                str(report.audit_seq)) if p)
    return f"{stem}.{fmt.value}"


def render(report: ReportModel, fmt: Format, *, recorded_seq: int = 0) -> Document:
    """The document in ``fmt``, with its hashes; ``recorded_seq`` is set by the caller that
    records the generation in the audit log."""
    html = render_html(report)
    content = html.encode("utf-8") if fmt is Format.HTML else render_pdf(html)
    return Document(content=content, media_type=MEDIA_TYPES[fmt],
                    sha256=hashlib.sha256(content).hexdigest(),
                    content_hash=content_hash(report), audit_seq=report.audit_seq,
                    recorded_seq=recorded_seq, filename=filename_for(report, fmt),
                    kind=report.kind, lang=report.lang)
