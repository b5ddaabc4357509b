"""The documents about one purpose: its notice (CN Art. 5) and its impact assessment
(CN Art. 9, PIPL 55-56). Pure: records in, :class:`ReportModel` out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from ..purposes.models import NOTICE_ITEMS, Assessment
from ..purposes.statements import Setting, Statement, assessment_statements, notice_statements
from .common import model, processor_rows, say, yes_no
from .det import det_svg
from .facts import Header, PurposeRecords
from .formats import fmt_date, fmt_int, fmt_rate, fmt_share, fmt_time, value_label
from .labels import text
from .models import (
    Block,
    Figure,
    KeyValues,
    Lang,
    Paragraph,
    ReportKind,
    ReportModel,
    Section,
    Table,
)

__all__ = ["build_notice", "build_pia", "calibration_in_force", "setting_of", "usage_counts"]


def setting_of(header: Header, r: PurposeRecords) -> Setting:
    """The records the purpose's notice and assessment paragraphs are generated from."""
    return Setting(purpose=r.purpose, site=r.site, processor=header.processor,
                   reviewers=r.reviewers_required)


def _paragraphs(statements: tuple[Statement, ...], item: str) -> str:
    return "\n".join(s.text for s in statements if s.item == item)


def _modes(r: PurposeRecords, lang: Lang) -> str:
    return "；".join(value_label(lang, m) for m in sorted(r.purpose.modes)) if lang is Lang.ZH \
        else "; ".join(value_label(lang, m) for m in sorted(r.purpose.modes))


def _subtitle(r: PurposeRecords, lang: Lang) -> str:
    return f"{say(r.purpose.name, lang)} · {r.purpose.key}"


def _purpose_rows(r: PurposeRecords, lang: Lang) -> list[tuple[str, str]]:
    p = r.purpose
    sep = "；" if lang is Lang.ZH else "; "
    return [
        (text(lang, "purpose.key"), p.key),
        (text(lang, "purpose.name"), say(p.name, lang)),
        (text(lang, "purpose.description"), say(p.description, lang)),
        (text(lang, "purpose.site"),
         f"{say(r.site.name, lang)} ({value_label(lang, r.site.site_type)})"),
        (text(lang, "purpose.modes"), _modes(r, lang)),
        (text(lang, "purpose.retention"), text(lang, "days", n=fmt_int(p.retention_days))),
        (text(lang, "purpose.storage"), value_label(lang, p.storage_mode)),
        (text(lang, "purpose.liveness"), yes_no(lang, p.liveness_required)),
        (text(lang, "purpose.alternatives"), sep.join(say(a.name, lang) for a in p.alternatives)
         or (say(p.mandate, lang) or text(lang, "none"))),
    ]


def calibration_in_force(r: PurposeRecords, lang: Lang) -> str:
    """Which calibration the purpose's threshold comes from, with its FMR and interval."""
    c = r.calibration
    if c is not None:
        fmr = (dict(c.report).get("target") or {}).get("fmr")
        return text(lang, "cal.own", id=str(c.id), population=c.population,
                    threshold=f"{r.threshold:.4f}", fmr=fmt_rate(fmr))
    if r.shipped is not None:
        return text(lang, "cal.shipped_in_force", population=r.shipped.population,
                    threshold=f"{r.threshold:.4f}", fmr=fmt_rate(dict(r.shipped.fmr)),
                    dataset=r.shipped.dataset)
    return text(lang, "cal.by_hand", threshold=f"{r.threshold:.4f}")


def build_notice(header: Header, r: PurposeRecords, lang: Lang) -> ReportModel:
    """The notice shown before consent: the purpose's facts from the books, the calibration
    its decisions rest on, and each Art. 5 item as generated from the records with the
    published notice's own words after it
    (:func:`facegate.purposes.statements.notice_statements`)."""
    glance = [*_purpose_rows(r, lang),
              (text(lang, "purpose.population"), r.purpose.population),
              (text(lang, "purpose.calibration"), calibration_in_force(r, lang))]
    sections: list[Section] = []
    if r.notice is None:
        sections.append(Section(text(lang, "notice.facts"),
                                (KeyValues(tuple(glance)), Paragraph(text(lang, "notice.absent")))))
        return model(header, ReportKind.NOTICE, lang, sections, subtitle=_subtitle(r, lang))
    statements = notice_statements(setting_of(header, r), r.notice.content, lang.value)
    glance += [(text(lang, "notice.version"), str(r.notice.version)),
               (text(lang, "notice.published"), fmt_time(lang, r.notice.published_at))]
    sections.append(Section(text(lang, "notice.facts"), (KeyValues(tuple(glance)),)))
    items = tuple((text(lang, f"notice.{item}"), _paragraphs(statements, item))
                  for item in NOTICE_ITEMS)
    sections.append(Section(text(lang, "notice.items"), (KeyValues(items),)))
    choices: list[Block] = [Paragraph(_paragraphs(statements, "alternatives"))]
    if r.purpose.alternatives:
        choices.append(Table(columns=(text(lang, "purpose.alternatives"),),
                             rows=tuple((say(a.name, lang),) for a in r.purpose.alternatives)))
    sections.append(Section(text(lang, "purpose.alternatives"), tuple(choices)))
    return model(header, ReportKind.NOTICE, lang, sections, subtitle=_subtitle(r, lang))


def usage_counts(r: PurposeRecords) -> dict[str, int]:
    """How often each path was taken, from the purpose's audit entries and alternative checks."""
    names = Counter(e.name for e in r.events)
    return {"enroll": names["enroll"], "verify": names["verify"], "identify": names["identify"],
            "declined": names["route-to-alternative"], "refusal": names["refusal"],
            "export": names["export"],
            "alt_verified": int(r.alternative_results.get("verified", 0)),
            "alt_not_verified": int(r.alternative_results.get("not_verified", 0))}


def _assessment_blocks(r: PurposeRecords, lang: Lang, latest: Assessment | None,
                       keep_days: int) -> tuple[Block, ...]:
    if latest is None:
        return (Paragraph(text(lang, "pia.none")),)
    rows = [(text(lang, "pia.assessment_id"), str(latest.id)),
            (text(lang, "pia.signed_by"), latest.signed_by),
            (text(lang, "pia.signed_at"), fmt_time(lang, latest.signed_at)),
            (text(lang, "pia.current"), yes_no(lang, latest.is_current_for(r.purpose))),
            (text(lang, "pia.keep_until"),
             fmt_date(lang, (latest.signed_at + timedelta(days=keep_days)).date()))]
    if latest.stale_reason:
        rows.append((text(lang, "pia.stale"), latest.stale_reason))
    blocks: list[Block] = [KeyValues(tuple(rows))]
    if len(r.assessments) > 1:
        blocks.append(Table(
            columns=(text(lang, "pia.assessment_id"), text(lang, "pia.signed_at"),
                     text(lang, "pia.signed_by"), text(lang, "pia.current")),
            rows=tuple((str(a.id), fmt_time(lang, a.signed_at), a.signed_by,
                        yes_no(lang, a.is_current_for(r.purpose))) for a in r.assessments),
            numeric=(0,)))
    return tuple(blocks)


def _said(statements: tuple[Statement, ...], item: str, lang: Lang) -> list[Block]:
    """An assessment item: the paragraphs generated from the records, then the signed
    statement."""
    colon = "：" if lang is Lang.ZH else ": "
    return [Paragraph(s.text) if s.fact else
            Paragraph(f"{text(lang, 'pia.assessor_text')}{colon}{s.text}", statement=True)
            for s in statements if s.item == item]


def _calibration_blocks(r: PurposeRecords, lang: Lang) -> tuple[Block, ...]:
    rows = [(text(lang, "purpose.pack"), f"{r.purpose.pack} {r.pack_version}"),
            (text(lang, "purpose.threshold"), f"{r.threshold:.4f}"),
            (text(lang, "purpose.population"), r.purpose.population),
            (text(lang, "purpose.calibration"), calibration_in_force(r, lang))]
    c = r.calibration
    if c is None and r.shipped is not None:
        s = r.shipped
        rows += [(text(lang, "cal.dataset"), f"{s.dataset} ({s.fingerprint[:16]})"),
                 (text(lang, "cal.target_fmr"), f"{s.target_fmr:g}"),
                 (text(lang, "cal.pairs"),
                  f"{fmt_int(s.genuine_pairs)} / {fmt_int(s.impostor_pairs)}"),
                 (text(lang, "cal.fmr"), fmt_rate(dict(s.fmr))),
                 (text(lang, "cal.fnmr"), fmt_rate(dict(s.fnmr)))]
        rows += [(text(lang, "cal.check", name=str(check["name"])),
                  f"{fmt_rate(dict(check['fmr']))} / {fmt_rate(dict(check['fnmr']))}")
                 for check in s.checks]
        return (KeyValues(tuple(rows)), Paragraph(text(lang, "cal.shipped")))
    if c is None:
        return (KeyValues(tuple(rows)), Paragraph(text(lang, "cal.none")))
    report: dict[str, Any] = dict(c.report)
    target = report.get("target") or {}
    rows += [(text(lang, "cal.id"), str(c.id)),
             (text(lang, "cal.population"), c.population),
             (text(lang, "cal.dataset"), f"{c.dataset} ({c.fingerprint[:16]})"),
             (text(lang, "cal.target_fmr"), f"{c.target_fmr:g}"),
             (text(lang, "cal.pairs"), f"{fmt_int(c.genuine_pairs)} / {fmt_int(c.impostor_pairs)}"),
             (text(lang, "cal.fmr"), fmt_rate(target.get("fmr"))),
             (text(lang, "cal.fnmr"), fmt_rate(target.get("fnmr"))),
             (text(lang, "cal.evaluated"), yes_no(lang, abs(c.threshold - r.threshold) <= 1e-9)),
             (text(lang, "cal.recorded"), f"{fmt_time(lang, c.recorded_at)}, {c.recorded_by}")]
    points = [*report.get("reported", []), target]
    table = Table(
        columns=(text(lang, "cal.point_fmr"), text(lang, "cal.point_threshold"),
                 text(lang, "cal.point_fmr_measured"), text(lang, "cal.point_fnmr")),
        rows=tuple(
            (f"{float(p['target_fmr']):g}",
             f"{float(p['threshold']):.4f}" if p.get("threshold") is not None
             else text(lang, "cal.not_measurable"),
             fmt_rate(p.get("fmr")), fmt_rate(p.get("fnmr")))
            for p in sorted(points, key=lambda p: -float(p.get("target_fmr", 0)))
            if p and "target_fmr" in p),
        numeric=(0, 1))
    det = report.get("det") or {}
    fmr, fnmr = list(det.get("fmr", [])), list(det.get("fnmr", []))
    caption = text(lang, "cal.det")
    if not fmr:
        measured = [p for p in points if p and p.get("fmr") and p.get("fnmr")]
        fmr = [float(p["fmr"]["value"]) for p in measured]
        fnmr = [float(p["fnmr"]["value"]) for p in measured]
        caption += " " + text(lang, "cal.det_points")
    here = (float(target["fmr"]["value"]), float(target["fnmr"]["value"])) \
        if target.get("fmr") and target.get("fnmr") else None
    svg = det_svg(fmr, fnmr, point=here, x_label="FMR", y_label="FNMR")
    return (KeyValues(tuple(rows)), table, Figure(svg=svg, caption=caption))


def build_pia(header: Header, r: PurposeRecords, lang: Lang) -> ReportModel:
    """The impact assessment: the signed statement on each PIPL 56 item, beside what the
    records show (usage, calibration, retention, storage, audit)."""
    profile = header.profile
    latest = r.assessments[-1] if r.assessments else None
    said = () if latest is None else assessment_statements(setting_of(header, r),
                                                           latest.content, lang.value)
    p = r.purpose
    use = usage_counts(r)
    checks = use["verify"] + use["identify"] + use["alt_verified"] + use["alt_not_verified"]
    alt = use["alt_verified"] + use["alt_not_verified"]
    cap = profile.retention_cap_days
    sweeps_erased = sum(int(e.detail.get("templates", 0)) for e in r.sweeps)
    operators = sorted({e.operator for e in r.events})
    chain = (text(lang, "audit.chain.ok", entries=fmt_int(r.chain.entries),
                  seq=r.chain.checkpoint_seq) if r.chain.intact
             else text(lang, "audit.chain.broken", message=r.chain.message))
    sections = [
        Section(text(lang, "pia.scope"), (
            KeyValues((*_purpose_rows(r, lang),
                       (text(lang, "purpose.legal_basis"), say(p.legal_basis, lang)),
                       (text(lang, "purpose.status"), value_label(lang, p.status)))),
            KeyValues(processor_rows(header, lang)))),
        Section(text(lang, "pia.assessment"),
                _assessment_blocks(r, lang, latest, profile.assessment_keep_days)),
        Section(text(lang, "pia.lawful"), (
            *_said(said, "lawful_legitimate_necessary", lang),
            KeyValues(((text(lang, "purpose.legal_basis"), say(p.legal_basis, lang)),
                       (text(lang, "purpose.necessity"), say(p.necessity, lang)),
                       (text(lang, "purpose.modes"), _modes(r, lang)))))),
        Section(text(lang, "pia.rights"), (
            KeyValues(tuple((text(lang, f"pia.{k}"), _paragraphs(said, k))
                            for k in ("rights_impact", "security_risks")))
            if latest else Paragraph(text(lang, "pia.none")),)),
        Section(text(lang, "pia.measures"), (
            *_said(said, "protection_measures", lang),
            KeyValues((
                (text(lang, "pia.encryption"), text(lang, "pia.encryption.value")),
                (text(lang, "pia.images"), text(lang, "pia.images.value")),
                (text(lang, "purpose.storage"), value_label(lang, p.storage_mode)),
                (text(lang, "purpose.liveness"), yes_no(lang, p.liveness_required)),
                (text(lang, "pia.minors"), text(lang, "pia.years", n=profile.minor_age)
                 if profile.minor_age else text(lang, "none")),
                (text(lang, "pia.refusals"), fmt_int(use["refusal"])),
                (text(lang, "audit.chain"), chain))))),
        Section(text(lang, "pia.alternatives"), (
            *_said(said, "alternatives_considered", lang),
            KeyValues(((text(lang, "purpose.alternatives"),
                        ("；" if lang is Lang.ZH else "; ").join(
                            say(a.name, lang) for a in p.alternatives)
                        or (say(p.mandate, lang) or text(lang, "none"))),)),
            Table(columns=(text(lang, "usage.method"), text(lang, "usage.count"),
                           text(lang, "usage.share")),
                  rows=(
                      (text(lang, "usage.enroll"), fmt_int(use["enroll"]), ""),
                      (text(lang, "usage.verify"), fmt_int(use["verify"]),
                       fmt_share(use["verify"], checks)),
                      (text(lang, "usage.identify"), fmt_int(use["identify"]),
                       fmt_share(use["identify"], checks)),
                      (text(lang, "usage.declined"), fmt_int(use["declined"]), ""),
                      (text(lang, "usage.alt_verified"), fmt_int(use["alt_verified"]),
                       fmt_share(use["alt_verified"], checks)),
                      (text(lang, "usage.alt_not_verified"), fmt_int(use["alt_not_verified"]),
                       fmt_share(use["alt_not_verified"], checks)),
                      (text(lang, "usage.alt_total"), fmt_int(alt), fmt_share(alt, checks))),
                  numeric=(1, 2)),
            Paragraph(text(lang, "usage.note"), note=True))),
        Section(text(lang, "pia.threshold"), _calibration_blocks(r, lang)),
        Section(text(lang, "pia.retention"), (KeyValues((
            (text(lang, "purpose.retention"), text(lang, "days", n=fmt_int(p.retention_days))),
            (text(lang, "ret.cap"), text(lang, "days", n=fmt_int(cap)) if cap
             else text(lang, "ret.cap.none")),
            (text(lang, "ret.templates"), fmt_int(r.templates)),
            (text(lang, "ret.individuals"), fmt_int(r.individuals)),
            (text(lang, "ret.next_expiry"), fmt_time(lang, r.next_expiry)),
            (text(lang, "ret.sweeps"), f"{fmt_int(len(r.sweeps))} / {fmt_int(sweeps_erased)}"),
            (text(lang, "ret.assessment_keep"),
             text(lang, "days", n=fmt_int(profile.assessment_keep_days))))),)),
        Section(text(lang, "pia.storage"), (KeyValues((
            (text(lang, "purpose.storage"), text(lang, f"storage.{p.storage_mode.value}")),
            (text(lang, "storage.transfer_consents"), fmt_int(r.transfer_consents)),
            (text(lang, "storage.exports"), fmt_int(use["export"])))),)),
        Section(text(lang, "pia.access"), (KeyValues((
            (text(lang, "audit.rbac"), text(lang, "audit.rbac.value")),
            (text(lang, "audit.chain"), chain),
            (text(lang, "audit.entries_purpose"), fmt_int(len(r.events))),
            (text(lang, "audit.operators"), ", ".join(operators) or text(lang, "none")),
            (text(lang, "audit.reviewers"), (", ".join(r.reviewers) or text(lang, "none"))
             if r.reviewers_required else text(lang, "audit.review_off")),
            (text(lang, "audit.reviewers_required"),
             str(r.reviewers_required or profile.reviewers_required)))),)),
    ]
    return model(header, ReportKind.PIA, lang, sections, subtitle=_subtitle(r, lang))
