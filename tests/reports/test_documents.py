"""Each document, generated for a demo deployment with real enrolments, in both languages,
says what the records say (``facegate.reports`` through ``Deployment.report``)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zlib
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from facegate.errors import InvalidArgument, ReportNotApplicable
from facegate.purposes.models import NOTICE_ITEMS
from facegate.reports import ReportModel, content_hash
from facegate.reports.formats import fmt_date
from facegate.reports.labels import text
from facegate.reports.models import Figure, KeyValues, Lang, Table

from ..support.words import alt, both
from .conftest import ACCESS, ATTENDANCE, Demo

LANGS = (Lang.ZH, Lang.EN)


def kv(model: ReportModel) -> dict[str, str]:
    """Every labelled fact of the document (later sections win on a repeated label)."""
    return {label: value for s in model.sections for b in s.blocks
            if isinstance(b, KeyValues) for label, value in b.rows}


def tables(model: ReportModel, heading: str) -> list[Table]:
    (section,) = [s for s in model.sections if s.heading == heading]
    return [b for b in section.blocks if isinstance(b, Table)]


def column(table: Table, name: str) -> list[str]:
    i = table.columns.index(name)
    return [row[i] for row in table.rows]


def words(model: ReportModel) -> str:
    return model.canonical().decode("utf-8")


@pytest.mark.parametrize("lang", LANGS)
def test_the_notice_holds_every_art5_item_and_the_purposes_facts(demo: Demo, lang: Lang) -> None:
    d = demo.d
    notice = d.notice(ACCESS)
    assert notice is not None
    model = d.report_model("notice", purpose=ACCESS, lang=lang)
    facts = kv(model)
    said = d.notice_text(ACCESS)[lang.value]
    for item in NOTICE_ITEMS:
        # each item as generated from the records, then the deployer's own words
        assert facts[text(lang, f"notice.{item}")] == "\n".join(said[item])
        if item in notice.content:
            assert said[item][-1] == notice.content[item][lang.value]
    assert "365 天" in facts[text(lang, "notice.retention_period")] or lang is Lang.EN
    assert facts[text(lang, "notice.version")] == str(notice.version)
    assert facts[text(lang, "purpose.retention")] == text(lang, "days",
                                                          n=d.purpose(ACCESS).retention_days)
    (alternatives,) = tables(model, text(lang, "purpose.alternatives"))
    assert [r[0] for r in alternatives.rows] == [a.name[lang.value]
                                                 for a in d.purpose(ACCESS).alternatives]
    assert model.title == text(lang, "title.notice") and model.lang is lang


@pytest.mark.parametrize("lang", LANGS)
def test_the_impact_assessment_counts_what_the_log_and_the_books_hold(demo: Demo,
                                                                      lang: Lang) -> None:
    d = demo.d
    purpose = d.purpose(ACCESS)
    model = d.report_model("pia", purpose=ACCESS, lang=lang)
    log = [e for e in d.audit_events() if e.purpose_key == ACCESS]
    names = Counter(e.name for e in log)
    assert (names["enroll"], names["verify"], names["identify"]) == (3, 1, 1)
    (usage,) = tables(model, text(lang, "pia.alternatives"))
    counts = dict(zip(column(usage, text(lang, "usage.method")),
                      column(usage, text(lang, "usage.count")), strict=True))
    assert counts[text(lang, "usage.enroll")] == str(names["enroll"])
    assert counts[text(lang, "usage.verify")] == str(names["verify"])
    assert counts[text(lang, "usage.identify")] == str(names["identify"])
    assert counts[text(lang, "usage.declined")] == str(names["route-to-alternative"]) == "1"
    assert counts[text(lang, "usage.alt_verified")] == "2"
    assert counts[text(lang, "usage.alt_not_verified")] == "1"
    shares = dict(zip(column(usage, text(lang, "usage.method")),
                      column(usage, text(lang, "usage.share")), strict=True))
    assert shares[text(lang, "usage.alt_total")] == "60.0%"  # 3 of 1 + 1 + 3 checks

    facts = kv(model)
    (assessment,) = d.assessments(ACCESS)
    assert facts[text(lang, "pia.assessment_id")] == str(assessment.id)
    assert facts[text(lang, "pia.keep_until")] == fmt_date(
        lang, (assessment.signed_at + timedelta(days=3 * 365 + 1)).date())
    card = d.model_card(ACCESS)
    assert facts[text(lang, "purpose.threshold")] == f"{card['threshold']:.4f}"
    assert facts[text(lang, "cal.id")] == str(purpose.calibration_id)
    assert facts[text(lang, "cal.evaluated")] == text(lang, "yes")
    assert facts[text(lang, "ret.templates")] == str(d.template_count(purpose=ACCESS)) == "2"
    assert facts[text(lang, "ret.individuals")] == "2"
    assert facts[text(lang, "purpose.storage")] == text(lang, "storage.device")
    chain = d.verify_audit()
    assert facts[text(lang, "audit.chain")] == text(lang, "audit.chain.ok", entries=chain.entries,
                                                    seq=chain.checkpoint_seq)
    assert facts[text(lang, "audit.entries_purpose")] == str(len(log))
    assert model.audit_seq == chain.checkpoint_seq
    (figure,) = [b for s in model.sections for b in s.blocks if isinstance(b, Figure)]
    assert figure.svg.startswith("<svg") and "<polyline" in figure.svg
    cal = d.calibrations(ACCESS)[-1]
    assert len(cal.report["det"]["fmr"]) >= 2  # the DET curve is recorded with the calibration
    # the signed statement on each PIPL 56 item is quoted
    for item, said in assessment.content.items():
        assert said[lang.value] in words(model), item


@pytest.mark.parametrize("lang", LANGS)
def test_the_filing_document_before_the_threshold_says_none_is_due(demo: Demo,
                                                                   lang: Lang) -> None:
    model = demo.d.report_model("filing", lang=lang)
    facts = kv(model)
    status = demo.d.filing_status()
    assert facts[text(lang, "filing.individuals")] == str(status.individuals) == "2"
    assert facts[text(lang, "filing.threshold")] == "100,000"
    assert facts[text(lang, "filing.warning_at")] == "90,000"
    assert text(lang, "filing.not_due") in words(model)
    assert facts[text(lang, "filing.authority")] == text(lang, "filing.authority.value",
                                                          province=both("Shanghai")[lang.value])


@pytest.mark.parametrize("lang", LANGS)
def test_an_active_subjects_access_report_lists_metadata_never_vectors(demo: Demo,
                                                                       lang: Lang) -> None:
    d = demo.d
    model = d.report_model("access", subject=demo.alice, lang=lang)
    (consents,) = tables(model, text(lang, "access.consents"))
    assert column(consents, text(lang, "col.seq")) == [str(c.seq) for c in
                                                       d.consents(demo.alice)]
    (templates,) = tables(model, text(lang, "access.templates"))
    held = d.access_report(demo.alice).templates
    assert column(templates, text(lang, "col.uid")) == [t["uid"] for t in held]
    assert column(templates, text(lang, "col.purpose")) == [ACCESS]
    matches = tables(model, text(lang, "access.matches"))[0]
    verify = [e.seq for e in d.audit_events("verify") if e.subject_id == demo.alice]
    assert column(matches, text(lang, "col.seq")) == [str(s) for s in verify]
    body = words(model)
    assert "descriptor" not in body and "vector" not in body.replace("vectors", "")
    assert not re.search(r"-?0\.\d{6,}", body)  # no descriptor components
    assert kv(model)[text(lang, "access.ref")] == "staff-alice"


@pytest.mark.parametrize("lang", LANGS)
def test_an_erased_subjects_access_report_shows_only_the_erasure_receipt(demo: Demo,
                                                                         lang: Lang) -> None:
    d = demo.d
    model = d.report_model("access", subject=demo.dave, lang=lang)
    assert len(model.sections) == 1
    (receipts,) = tables(model, text(lang, "access.receipt"))
    (erased,) = d.audit_events("subject-erased")
    assert erased.subject_id == demo.dave
    assert receipts.rows == ((str(erased.seq), receipts.rows[0][1],
                              str(erased.detail["templates"]), str(erased.detail["images"]),
                              str(erased.detail["consents"]), text(lang, "yes")),)
    assert erased.detail["templates"] == 1
    body = words(model)
    assert "staff-dave" not in body and ACCESS not in body


@pytest.mark.parametrize("lang", LANGS)
def test_the_summary_counts_operations_refusals_alternatives_and_rights(demo: Demo,
                                                                        lang: Lang) -> None:
    d = demo.d
    model = d.report_model("summary", lang=lang)
    log = d.audit_events()
    (ops,) = tables(model, text(lang, "sum.operations"))
    rows = {r[0]: r for r in ops.rows}
    for key in (ACCESS, ATTENDANCE):
        c = Counter(e.name for e in log if e.purpose_key == key)
        assert rows[key][1] == both("Lobby")[lang.value]
        assert rows[key][2:] == tuple(str(c[n]) for n in (
            "enroll", "verify", "identify", "route-to-alternative", "refusal"))
    assert rows[ATTENDANCE][6] == "1"  # alice had not consented to attendance
    (refusals,) = tables(model, text(lang, "sum.refusals"))
    assert refusals.rows == (("R2", "consent.missing", "Art. 6", "1"),)
    (alternatives,) = tables(model, text(lang, "sum.alternatives"))
    assert alternatives.rows[0] == (ACCESS, "2", "4", "66.7%")
    facts = kv(model)
    assert facts[text(lang, "sum.withdrawals")] == "1"
    assert facts[text(lang, "sum.templates_deleted")] == "1"
    assert facts[text(lang, "sum.erasures")] == "1"
    assert facts[text(lang, "sum.templates_erased")] == "1"
    assert facts[text(lang, "sum.entries")] == str(len(log))
    assert text(lang, "audit.chain.ok", entries=len(log), seq=len(log)) in words(model)


def test_the_summary_counts_only_its_period(demo: Demo) -> None:
    d = demo.d
    later = demo.clock.now() + timedelta(days=30)
    model = d.report_model("summary", lang=Lang.EN, since=later, until=later + timedelta(days=1))
    facts = kv(model)
    assert facts[text(Lang.EN, "sum.entries")] == "0"
    assert facts[text(Lang.EN, "sum.erasures")] == "0"
    with pytest.raises(InvalidArgument):
        d.report_model("summary", since=later, until=later - timedelta(days=1))


def test_the_retention_policy_exists_only_under_bipa(demo: Demo) -> None:
    with pytest.raises(ReportNotApplicable) as refused:
        demo.d.report("retention-policy")
    assert refused.value.code == "report.not_applicable"
    with pytest.raises(InvalidArgument):
        demo.d.report("pia")  # names no purpose
    with pytest.raises(InvalidArgument):
        demo.d.report("minutes")


@pytest.mark.parametrize("lang", LANGS)
def test_each_document_is_a_pdf_with_its_hashes_recorded_in_the_audit_log(
        demo: Demo, lang: Lang) -> None:
    d = demo.d
    asks: list[tuple[str, dict[str, Any]]] = [
        ("notice", {"purpose": ACCESS}), ("pia", {"purpose": ATTENDANCE}), ("filing", {}),
        ("access", {"subject": demo.bob}), ("access", {"subject": demo.dave}), ("summary", {})]
    for kind, kw in asks:
        doc = d.report(kind, lang=lang, fmt="pdf", **kw)
        assert doc.content.startswith(b"%PDF-") and doc.media_type == "application/pdf"
        assert doc.sha256 == hashlib.sha256(doc.content).hexdigest()
        assert doc.filename.endswith(f"-{lang.value}-{doc.audit_seq}.pdf")
        entry = d.audit_events("report-generated")[-1]
        assert entry.seq == doc.recorded_seq == doc.audit_seq + 1
        assert entry.detail == {"kind": kind, "lang": lang.value, "format": "pdf",
                                "audit_seq": doc.audit_seq, "content_hash": doc.content_hash,
                                "sha256": doc.sha256, "filename": doc.filename}
        html = d.report(kind, lang=lang, fmt="html", **kw)
        page = html.content.decode("utf-8")
        assert html.content_hash in page  # printed in the footer and the control block
        assert text(lang, "audit_position.value", seq=html.audit_seq) in page
    d.verify_audit()


def test_the_content_hash_is_the_models_and_changes_with_the_state(demo: Demo) -> None:
    d = demo.d
    first = d.report_model("filing", lang=Lang.EN)
    assert content_hash(first) == hashlib.sha256(first.canonical()).hexdigest()
    assert json.loads(first.canonical())["audit_seq"] == first.audit_seq
    d.report("filing", lang="en")  # recorded: the log moves on
    second = d.report_model("filing", lang=Lang.EN)
    assert second.audit_seq == first.audit_seq + 1
    assert content_hash(second) != content_hash(first)


def test_dates_read_in_each_language() -> None:
    assert fmt_date(Lang.ZH, date(2025, 11, 13)) == "2025年11月13日"
    assert fmt_date(Lang.EN, date(2025, 11, 13)) == "13 November 2025"


def _cjk_font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                               text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.strip())


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (fonts are named in object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end():]))
        except zlib.error:
            continue
    return b"".join(parts)


def test_the_chinese_pdf_embeds_a_cjk_font(demo: Demo) -> None:
    if not _cjk_font_installed():
        pytest.skip("no CJK font is installed (fonts-noto-cjk or fonts-wqy-microhei; "
                    "scripts/test.sh installs one): Chinese glyphs would be missing")
    doc = demo.d.report("pia", purpose=ACCESS, lang="zh", fmt="pdf")
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", _pdf_text(doc.content)))
    assert any(b"CJK" in f or b"WenQuanYi" in f or b"Hei" in f for f in fonts), fonts


def test_weasyprint_leaves_truncated_images_refused(demo: Demo) -> None:
    """Regression: importing WeasyPrint set Pillow's LOAD_TRUNCATED_IMAGES for the whole
    process, after which facegate.images accepted truncated photos."""
    from PIL import ImageFile

    demo.d.report("filing", lang="en", fmt="pdf")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("lang", LANGS)
def test_the_notice_and_assessment_name_the_calibration_in_force_and_its_fmr_interval(
        books: Any, lang: Lang) -> None:
    from facegate.calibration.shipped import shipped_calibration
    from facegate.demo.governed import demo_assessment, demo_notice
    from facegate.reports.formats import fmt_rate

    d = books
    d.register_purpose(key="access.door", site="hq.lobby", description=both("door"),
                       necessity=both("entry"), legal_basis=both("consent"), modes=["verify"],
                       alternatives=[alt("badge")], retention_days=30, pack="dlib-resnet-v1")
    d.publish_notice(purpose="access.door", content=demo_notice())
    d.sign_assessment(purpose="access.door", content=demo_assessment(), signed_by="DPO")
    shipped = shipped_calibration("dlib-resnet-v1", "1.0", "east-asian-adults")
    assert shipped is not None
    in_force = text(lang, "cal.shipped_in_force", population="east-asian-adults",
                    threshold=f"{shipped.threshold:.4f}", fmr=fmt_rate(dict(shipped.fmr)),
                    dataset=shipped.dataset)
    for kind in ("notice", "pia"):
        facts = kv(d.report_model(kind, purpose="access.door", lang=lang))
        assert facts[text(lang, "purpose.population")] == "east-asian-adults"
        assert facts[text(lang, "purpose.calibration")] == in_force
    assert "95%" in in_force and "1,022,938" in in_force
    # a purpose with its own calibration names that one instead
    own = kv(d.report_model("notice", purpose=ACCESS, lang=lang))
    assert own[text(lang, "purpose.calibration")].startswith(
        text(lang, "cal.own", id="", population="", threshold="", fmr="")[:4])
