"""Every document of the demo deployment (``facegate serve --demo``), in Chinese and English,
says what the purpose's records say: its modes, the review of its hits, its retention, its
storage and its alternative; a Chinese document holds no English words of a record, and
its PDF draws every character with a real glyph."""

from __future__ import annotations

import html
import re
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from facegate.demo.service import DEMO_PURPOSE, prepare_demo
from facegate.deployment import Deployment
from facegate.errors import ReportFontMissing
from facegate.jurisdictions import get_profile
from facegate.purposes.models import Mode, StorageMode
from facegate.purposes.statements import words as said
from facegate.reports.render import render_html
from facegate.texts import Text, days

from ..conftest import shared_samples

LANGS = ("zh", "en")
#: The documents of a Chinese deployment (the retention policy is BIPA's alone).
KINDS = ("notice", "pia", "filing", "summary", "access")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, str]]:
    """The demo deployment as ``serve --demo`` sets it up: with the sample staff photos it
    identifies (1:N) and its hits wait for review; without them it verifies. One subject
    is enrolled-ready so that an access report exists."""
    folder = tmp_path_factory.mktemp("demo-docs")
    data = folder / "data"
    data.mkdir()
    samples = shared_samples()
    if samples is not None:  # the staff photos alone: a quick calibration on them (R21)
        (data / "samples").symlink_to(samples)
    with Deployment.open(folder / "demo.db", create=True) as d:
        prepare_demo(d, folder / "keys.json", data=data, echo=lambda _: None)
        subject = d.register_subject(external_ref="staff-0042", age_band="adult")
        yield d, subject.id


def visible(model_html: str) -> str:
    """The words a reader sees in a rendered document (tags, styles and scripts removed)."""
    body = re.sub(r"(?s)<(head|style|script)\b.*?</\1>", " ", model_html)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def record_texts(d: Deployment) -> list[tuple[str, Text]]:
    """Every text of the records a document may show, with where it comes from."""
    p = d.purpose(DEMO_PURPOSE)
    processor = d.processor()
    assert processor is not None
    site = next(s for s in d.sites() if s.key == p.site_key)
    notice = d.notice(DEMO_PURPOSE)
    assert notice is not None
    (assessment,) = d.assessments(DEMO_PURPOSE)
    return [("processor name", processor.name), ("processor contact", processor.contact),
            ("processor province", processor.province),
            ("processor security_measures", processor.security_measures),
            ("site name", site.name), ("purpose name", p.name),
            ("purpose description", p.description), ("purpose necessity", p.necessity),
            ("purpose legal_basis", p.legal_basis),
            *((f"alternative {a.key}", a.name) for a in p.alternatives),
            *((f"notice {item}", words) for item, words in notice.content.items()),
            *((f"assessment {item}", words) for item, words in assessment.content.items())]


def document(d: Deployment, kind: str, lang: str, subject: str) -> str:
    model = d.report_model(kind, purpose=DEMO_PURPOSE if kind in ("notice", "pia") else None,
                           subject=subject if kind == "access" else None, lang=lang)
    return visible(render_html(model))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_document_holds_only_the_words_of_its_language(
        demo: tuple[Deployment, str], kind: str, lang: str) -> None:
    d, subject = demo
    body = document(d, kind, lang, subject)
    other = "en" if lang == "zh" else "zh"
    for field, words in record_texts(d):
        assert set(words) >= set(LANGS), field  # every record text exists in both
        if words[other] != words[lang]:
            assert words[other] not in body, f"the {lang} {kind} shows the {other} {field}"
    assert "（未以中文填写）" not in body and "(not written in English)" not in body
    if lang == "zh":
        # no English sentence: Latin words here are codes, keys, names of laws and packs
        assert not re.search(r"[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+", body.replace("\n", " ")), \
            re.findall(r"[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+[^。]{0,40}", body)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ("notice", "pia"))
def test_the_purposes_documents_state_its_records(demo: tuple[Deployment, str], kind: str,
                                                  lang: str) -> None:
    d, subject = demo
    p = d.purpose(DEMO_PURPOSE)
    review = d.review_settings(DEMO_PURPOSE)
    body = document(d, kind, lang, subject)
    flat = re.sub(r"\s+", " ", body)
    # modes: each of the purpose's methods is described, no other
    for mode, key in ((Mode.VERIFY, "verify"), (Mode.IDENTIFY, "identify")):
        assert (said(key, lang) in flat) is (mode in p.modes), (kind, mode)
    if Mode.IDENTIFY in p.modes:
        # review: the demo identifies with its hits waiting for two distinct reviewers, more
        # than the profile's least
        assert review is not None and review.reviewers == 2
        processor = d.processor()
        assert processor is not None
        n = review.reviewers_required(get_profile(processor.jurisdiction).reviewers_required)
        assert said("review.many" if n > 1 else "review.one", lang, n=n) in flat
        assert said("review.none", lang) not in flat
    # retention, in the reader's own units
    assert said("retention", lang, days=days(p.retention_days, lang)) in flat
    assert days(p.retention_days, lang) == ("365 天" if lang == "zh" else "365 days")
    # storage: where templates are, and not the other place
    assert p.storage_mode is StorageMode.DEVICE
    assert said("storage.device", lang) in flat
    assert said("storage.central", lang, processor=d.processor().name[lang]) not in flat  # type: ignore[union-attr]
    # the alternative, by its name in this language
    names = ("；" if lang == "zh" else "; ").join(a.name[lang] for a in p.alternatives)
    assert said("alternatives", lang, names=names) in flat
    if kind == "notice":  # what a visitor is told to do, they can do without a command line
        assert not re.search(r"facegate\s+(consent|subject|withdraw|erase|review|report)\b"
                             r"|`| --[a-z]|命令行", flat), flat


def _cjk_font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                               text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.strip())


def unknown_glyphs(page: str) -> tuple[int, int]:
    """(text runs, characters drawn without a glyph) when WeasyPrint lays ``page`` out for
    its PDF: Pango counts each character no font has (drawn as an empty box)."""
    import weasyprint
    from weasyprint.formatting_structure import boxes
    from weasyprint.text.ffi import ffi, pango

    if not hasattr(unknown_glyphs, "declared"):
        ffi.cdef("int pango_layout_get_unknown_glyphs_count (PangoLayout *layout);")
        unknown_glyphs.declared = True  # type: ignore[attr-defined]

    def walk(box: object) -> Iterator[object]:
        yield box
        for child in getattr(box, "children", None) or ():
            yield from walk(child)

    runs = unknown = 0
    for laid_out in weasyprint.HTML(string=page).render().pages:
        for box in walk(laid_out._page_box):
            if isinstance(box, boxes.TextBox):
                runs += 1
                box.pango_layout.reactivate(box.style)  # its Pango layout, as drawn
                unknown += pango.pango_layout_get_unknown_glyphs_count(box.pango_layout.layout)
    return runs, unknown


@pytest.mark.parametrize("kind", KINDS)
def test_each_chinese_pdf_draws_every_character_with_a_real_glyph(
        demo: tuple[Deployment, str], kind: str, tmp_path: Path) -> None:
    if not _cjk_font_installed():
        pytest.skip("no CJK font is installed (scripts/test.sh and demo.sh install "
                    "fonts-noto-cjk): the Chinese PDF is refused, report.font_missing")
    d, subject = demo
    doc = d.report(kind, purpose=DEMO_PURPOSE if kind in ("notice", "pia") else None,
                   subject=subject if kind == "access" else None, lang="zh", fmt="pdf")
    model = d.report_model(kind, purpose=DEMO_PURPOSE if kind in ("notice", "pia") else None,
                           subject=subject if kind == "access" else None, lang="zh")
    runs, unknown = unknown_glyphs(render_html(model))
    assert runs > 20 and unknown == 0, f"{unknown} characters drawn as empty boxes"
    # and every character of the document is in the PDF's text
    (tmp_path / "doc.pdf").write_bytes(doc.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "doc.pdf"), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    # Compared with a second rendering of the same records: its generation time, audit
    # position and content hash differ from the PDF's, so a hex digit may be in one and
    # not the other; every other character must be in the PDF.
    wanted = {ch for ch in document(d, kind, "zh", subject)
              if not ch.isspace() and ch not in string.hexdigits}
    assert wanted - set(text) == set()


def test_a_chinese_pdf_without_a_cjk_font_is_refused_never_served(
        demo: tuple[Deployment, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d, _ = demo
    latin = next((p for p in (Path("/usr/share/fonts/truetype/dejavu"),
                              Path("/usr/share/fonts/truetype/liberation")) if p.is_dir()), None)
    if latin is None:
        pytest.skip("no Latin-only font folder to stand for a machine without a CJK font")
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{latin}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>", "utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    before = len(d.audit_events("report-generated"))
    with pytest.raises(ReportFontMissing) as refused:
        d.report("notice", purpose=DEMO_PURPOSE, lang="zh", fmt="pdf")
    assert refused.value.code == "report.font_missing"
    assert "人" in refused.value.details["missing"] or refused.value.details["count"] > 10
    assert len(d.audit_events("report-generated")) == before  # nothing was issued
    # (and the glyph check above finds the boxes such a PDF would show)
    page = render_html(d.report_model("notice", purpose=DEMO_PURPOSE, lang="zh"))
    assert unknown_glyphs(page)[1] > 10
    # the HTML of the same document is still served (the browser has its own fonts)
    assert d.report("notice", purpose=DEMO_PURPOSE, lang="zh", fmt="html").content
