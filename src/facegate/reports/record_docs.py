"""The documents about the deployment's records: the filing record (CN Art. 15), a
subject's access report (PIPL 45), the periodic compliance summary and, under BIPA,
the public retention and destruction policy (R22). Pure: records in, model out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..audit.trail import AuditEvent
from ..errors import InvalidArgument
from ..purposes.models import Purpose
from ..texts import Text
from .common import model, processor_rows, say, yes_no
from .facts import ChainStatus, FilingEntry, Header, SummaryRecords
from .formats import fmt_date, fmt_int, fmt_share, fmt_time, value_label
from .labels import text
from .models import Block, KeyValues, Lang, Paragraph, ReportKind, ReportModel, Section, Table

__all__ = ["build_access", "build_filing", "build_retention_policy", "build_summary",
           "chain_text"]

#: The audit entries that are a face operation on a subject's behalf.
MATCH_EVENTS = ("verify", "identify", "act-on-hit")


def chain_text(chain: ChainStatus, lang: Lang) -> str:
    if chain.intact:
        return text(lang, "audit.chain.ok", entries=fmt_int(chain.entries),
                    seq=chain.checkpoint_seq)
    return text(lang, "audit.chain.broken", message=chain.message)


# -- filing ---------------------------------------------------------------------------

def _filed(value: object, lang: Lang) -> str:
    """A text captured in a filing record: words per language (or, in a record captured
    before texts were kept per language, one string)."""
    try:
        return say(Text.of(value), lang)
    except InvalidArgument:
        return str(value)


def _filing_record_blocks(entry: FilingEntry, lang: Lang, working_days: int) -> list[Section]:
    content = entry.content
    basic = content.get("processor") or {}
    sections = [Section(text(lang, "filing.record"), (KeyValues((
        (text(lang, "filing.kind"), text(lang, f"kind.{entry.kind}")),
        (text(lang, "filing.triggered_on"), fmt_date(lang, entry.triggered_on)),
        (text(lang, "filing.due_on"), fmt_date(lang, entry.due_on)),
        (text(lang, "filing.deadline"), text(lang, "filing.working_days", n=working_days)),
        (text(lang, "filing.individuals_then"), fmt_int(entry.individuals)),
        (text(lang, "filing.reason"), entry.reason))),))]
    if basic:
        sections.append(Section(text(lang, "filing.basic"), (KeyValues((
            (text(lang, "processor.name"), _filed(basic.get("name"), lang)),
            (text(lang, "processor.contact"), _filed(basic.get("contact"), lang)),
            (text(lang, "processor.credit_code"), str(basic.get("credit_code", ""))),
            (text(lang, "processor.province"), _filed(basic.get("province"), lang)),
            (text(lang, "processor.security"),
             _filed(content.get("security_measures"), lang) or text(lang, "none")))),)))
    purposes: Sequence[Mapping[str, Any]] = content.get("purposes_and_methods", [])
    sections.append(Section(text(lang, "filing.purposes"), (Table(
        columns=(text(lang, "col.purpose"), text(lang, "purpose.description"),
                 text(lang, "purpose.modes"), text(lang, "purpose.storage"),
                 text(lang, "col.site"), text(lang, "col.status")),
        rows=tuple((str(p["purpose"]), _filed(p.get("description"), lang),
                    ("；" if lang is Lang.ZH else "; ").join(
                        value_label(lang, m) for m in p["modes"]),
                    value_label(lang, str(p["storage_mode"])), str(p["site"]),
                    value_label(lang, str(p["status"]))) for p in purposes),
        empty=text(lang, "none"), nowrap=(3, 4, 5)),)))
    rules: Mapping[str, Any] = content.get("processing_rules", {})
    assessments: Sequence[Mapping[str, Any]] = content.get("impact_assessments", [])
    sections.append(Section(text(lang, "filing.rules"), (Table(
        columns=(text(lang, "col.purpose"), text(lang, "notice.version")),
        rows=tuple((k, str(v) if v is not None else text(lang, "none"))
                   for k, v in sorted(rules.items())), numeric=(1,),
        empty=text(lang, "none")),)))
    sections.append(Section(text(lang, "filing.assessments"), (Table(
        columns=(text(lang, "pia.assessment_id"), text(lang, "col.purpose"),
                 text(lang, "pia.signed_at"), text(lang, "pia.current")),
        rows=tuple((str(a["id"]), str(a["purpose"]), fmt_time(lang, str(a["signed_at"])),
                    yes_no(lang, bool(a["current"]))) for a in assessments),
        numeric=(0,), empty=text(lang, "none")),)))
    return sections


def build_filing(header: Header, *, individuals: int, warning_at: int | None,
                 records: Sequence[FilingEntry], lang: Lang) -> ReportModel:
    """The filing record with its contents as captured when the threshold was reached,
    and every change record after it; or, before the threshold, where the count stands."""
    profile = header.profile
    filing = next((r for r in records if r.kind == "filing"), None)
    province = say(header.processor.province, lang) or "—"
    status: list[tuple[str, str]] = [
        (text(lang, "filing.authority"), text(lang, "filing.authority.value", province=province)),
        (text(lang, "filing.individuals"), fmt_int(individuals)),
        (text(lang, "filing.threshold"), fmt_int(profile.filing_threshold)
         if profile.filing_threshold else text(lang, "filing.threshold.none")),
    ]
    if warning_at is not None:
        status.append((text(lang, "filing.warning_at"), fmt_int(warning_at)))
    blocks: list[Block] = [KeyValues(tuple(status))]
    if filing is None:
        blocks.append(Paragraph(text(lang, "filing.not_due")))
    sections = [Section(text(lang, "filing.status"), tuple(blocks))]
    if filing is None:
        sections.append(Section(text(lang, "filing.basic"),
                                (KeyValues(processor_rows(header, lang)),)))
    else:
        sections += _filing_record_blocks(filing, lang, profile.filing_working_days)
    changes = [r for r in records if r.kind == "change"]
    if filing is not None:
        sections.append(Section(text(lang, "filing.changes"), (Table(
            columns=(text(lang, "filing.triggered_on"), text(lang, "filing.due_on"),
                     text(lang, "filing.individuals_then"), text(lang, "filing.reason")),
            rows=tuple((fmt_date(lang, c.triggered_on), fmt_date(lang, c.due_on),
                        fmt_int(c.individuals), c.reason) for c in changes),
            numeric=(2,), empty=text(lang, "filing.changes.none")),)))
        sections.append(Section(text(lang, "filing.materials"),
                                (Paragraph(text(lang, "filing.materials.list")),)))
    return model(header, ReportKind.FILING, lang, sections,
                 subtitle=f"{say(header.processor.name, lang)} · "
                          f"{header.processor.credit_code}")


# -- access ---------------------------------------------------------------------------

def _event_rows(events: Sequence[Mapping[str, Any]], lang: Lang) -> tuple[tuple[str, ...], ...]:
    return tuple((str(e["seq"]), fmt_time(lang, str(e["at"])), value_label(lang, str(e["name"])),
                  str(e.get("purpose") or "—"), value_label(lang, str(e["outcome"])))
                 for e in events)


def build_access(header: Header, report: Mapping[str, Any], lang: Lang) -> ReportModel:
    """What is held about one subject; after erasure, only the erasure receipt."""
    subject = str(report["subject_id"])
    if report["erased"]:
        receipts = report.get("erasures", [])
        rows = tuple((str(e["seq"]), fmt_time(lang, str(e["at"])),
                      fmt_int(int(e["detail"].get("templates", 0))),
                      fmt_int(int(e["detail"].get("images", 0))),
                      fmt_int(int(e["detail"].get("consents", 0))),
                      yes_no(lang, bool(e["detail"].get("data_key_destroyed"))))
                     for e in receipts)
        sections = [Section(text(lang, "access.receipt"), (
            Paragraph(text(lang, "access.erased")),
            Table(columns=(text(lang, "col.seq"), text(lang, "col.at"),
                           text(lang, "col.templates"), text(lang, "col.images"),
                           text(lang, "col.consents"), text(lang, "col.key_destroyed")),
                  rows=rows, numeric=(0, 2, 3, 4))))]
        return model(header, ReportKind.ACCESS, lang, sections, subtitle=subject)
    person: Mapping[str, Any] = report["subject"]
    events: Sequence[Mapping[str, Any]] = report.get("events", [])
    matches = [e for e in events if e["name"] in MATCH_EVENTS]
    none = text(lang, "none")
    sections = [
        Section(text(lang, "access.subject"), (KeyValues((
            (text(lang, "access.id"), str(person["id"])),
            (text(lang, "access.ref"), str(person.get("external_ref") or none)),
            (text(lang, "access.age_band"), value_label(lang, str(person.get("age_band") or "—"))),
            (text(lang, "access.birth_date"),
             fmt_date(lang, date.fromisoformat(str(person["birth_date"])))
             if person.get("birth_date") else none),
            (text(lang, "access.registered"), fmt_time(lang, str(person["registered_at"])))),),
            Paragraph(text(lang, "access.no_vectors"), note=True))),
        Section(text(lang, "access.consents"), (Table(
            columns=(text(lang, "col.seq"), text(lang, "col.purpose"), text(lang, "col.scope"),
                     text(lang, "col.kind"), text(lang, "col.notice"), text(lang, "col.method"),
                     text(lang, "col.given_by"), text(lang, "col.at")),
            rows=tuple((str(c["seq"]), str(c["purpose"]), value_label(lang, str(c["scope"])),
                        value_label(lang, str(c["kind"])),
                        str(c["notice_version"]) if c["notice_version"] is not None else "—",
                        value_label(lang, str(c["method"])),
                        value_label(lang, str(c["given_by"])),
                        fmt_time(lang, str(c["recorded_at"])))
                       for c in report.get("consents", [])),
            numeric=(0, 4), empty=none),)),
        Section(text(lang, "access.templates"), (Table(
            columns=(text(lang, "col.uid"), text(lang, "col.purpose"), text(lang, "col.site"),
                     text(lang, "col.pack"), text(lang, "col.created"),
                     text(lang, "col.expires")),
            rows=tuple((str(t["uid"]), str(t["purpose"]), str(t["site"]),
                        f"{t['pack']} {t['pack_version']}", fmt_time(lang, str(t["created_at"])),
                        fmt_time(lang, str(t["expires_at"])))
                       for t in report.get("templates", [])), empty=none),)),
        Section(text(lang, "access.images"), (Table(
            columns=(text(lang, "col.uid"), text(lang, "col.purpose"), text(lang, "col.media"),
                     text(lang, "col.bytes"), text(lang, "col.created"),
                     text(lang, "col.expires")),
            rows=tuple((str(i["uid"]), str(i["purpose"]), str(i["media_type"]),
                        fmt_int(int(i["sealed_bytes"])), fmt_time(lang, str(i["created_at"])),
                        fmt_time(lang, str(i["expires_at"])))
                       for i in report.get("images", [])), numeric=(3,), empty=none),)),
        Section(text(lang, "access.matches"), (
            Table(columns=(text(lang, "col.seq"), text(lang, "col.at"), text(lang, "col.event"),
                           text(lang, "col.purpose"), text(lang, "col.outcome")),
                  rows=_event_rows(matches, lang), numeric=(0,), empty=none),
            Table(columns=(text(lang, "col.uid"), text(lang, "col.purpose"),
                           text(lang, "col.status"), text(lang, "col.distance"),
                           text(lang, "col.created")),
                  rows=tuple((str(c["case"]), str(c["purpose"]),
                              value_label(lang, str(c["status"])), f"{float(c['distance']):.4f}",
                              fmt_time(lang, str(c["created_at"])))
                             for c in report.get("review_cases", [])),
                  numeric=(3,), empty=text(lang, "access.no_reviews")))),
        Section(text(lang, "access.events"), (Table(
            columns=(text(lang, "col.seq"), text(lang, "col.at"), text(lang, "col.event"),
                     text(lang, "col.purpose"), text(lang, "col.outcome")),
            rows=_event_rows(events, lang), numeric=(0,), empty=none),)),
    ]
    return model(header, ReportKind.ACCESS, lang, sections, subtitle=subject)


# -- periodic summary -------------------------------------------------------------------

def _sum_detail(events: Sequence[AuditEvent], name: str, key: str) -> int:
    return sum(int(e.detail.get(key, 0) or 0) for e in events if e.name == name)


def build_summary(header: Header, s: SummaryRecords, lang: Lang) -> ReportModel:
    """What happened in a period, counted from the audit log, the alternative checks and the
    review cases."""
    per: dict[str | None, Counter[str]] = {}
    for e in s.events:
        per.setdefault(e.purpose_key, Counter())[e.name] += 1
    ops = ("enroll", "verify", "identify", "route-to-alternative", "refusal")
    op_rows = []
    totals: Counter[str] = Counter()
    for p in s.purposes:
        c = per.get(p.key, Counter())
        totals.update({k: c[k] for k in ops})
        site = s.sites.get(p.site_key)
        op_rows.append((p.key, say(site.name, lang) if site else p.site_key,
                        *(fmt_int(c[k]) for k in ops)))
    op_rows.append((text(lang, "sum.total"), "", *(fmt_int(totals[k]) for k in ops)))
    refusals = Counter((e.rule or "—", e.outcome) for e in s.events if e.name == "refusal")
    alt_rows = []
    for p in s.purposes:
        c = per.get(p.key, Counter())
        face = c["verify"] + c["identify"]
        results = s.alternative_results.get(p.key, {})
        alt = c["route-to-alternative"] + sum(int(v) for v in results.values())
        alt_rows.append((p.key, fmt_int(face), fmt_int(alt), fmt_share(alt, face + alt)))
    names = Counter(e.name for e in s.events)
    period = (text(lang, "sum.period.value", since=fmt_time(lang, s.since),
                   until=fmt_time(lang, s.until)) if s.since
              else text(lang, "sum.period.open", until=fmt_time(lang, s.until)))
    sections = [
        Section(text(lang, "sum.totals"), (KeyValues((
            (text(lang, "sum.period"), period),
            (text(lang, "sum.entries"), fmt_int(len(s.events))),
            (text(lang, "sum.chain"), chain_text(s.chain, lang)))),)),
        Section(text(lang, "sum.operations"), (Table(
            columns=(text(lang, "col.purpose"), text(lang, "col.site"),
                     text(lang, "sum.col.enroll"), text(lang, "sum.col.verify"),
                     text(lang, "sum.col.identify"), text(lang, "sum.col.declined"),
                     text(lang, "sum.col.refused")),
            rows=tuple(op_rows), numeric=(2, 3, 4, 5, 6)),)),
        Section(text(lang, "sum.refusals"), (Table(
            columns=(text(lang, "sum.rule"), text(lang, "sum.code"), text(lang, "sum.article"),
                     text(lang, "col.count")),
            rows=tuple((rule, code, header.profile.article(rule) if rule != "—" else "—",
                        fmt_int(n)) for (rule, code), n in sorted(refusals.items())),
            numeric=(3,), empty=text(lang, "sum.no_refusals")),)),
        Section(text(lang, "sum.alternatives"), (Table(
            columns=(text(lang, "col.purpose"), text(lang, "sum.col.face"),
                     text(lang, "sum.col.alternative"), text(lang, "usage.share")),
            rows=tuple(alt_rows), numeric=(1, 2, 3)),
            Paragraph(text(lang, "sum.alt_note"), note=True))),
        Section(text(lang, "sum.rights"), (KeyValues((
            (text(lang, "sum.withdrawals"), fmt_int(names["consent-withdrawn"])),
            (text(lang, "sum.templates_deleted"),
             fmt_int(_sum_detail(s.events, "consent-withdrawn", "templates_deleted"))),
            (text(lang, "sum.erasures"), fmt_int(names["subject-erased"])),
            (text(lang, "sum.templates_erased"),
             fmt_int(_sum_detail(s.events, "subject-erased", "templates"))),
            (text(lang, "sum.sweeps"), fmt_int(names["retention-sweep"])),
            (text(lang, "sum.sweep_templates"),
             fmt_int(_sum_detail(s.events, "retention-sweep", "templates"))),
            (text(lang, "sum.access_requests"), fmt_int(names["subject-access"])))),)),
        Section(text(lang, "sum.reviews"), (Table(
            columns=(text(lang, "col.status"), text(lang, "col.count")),
            rows=tuple((value_label(lang, k), fmt_int(v))
                       for k, v in sorted(s.review_statuses.items())),
            numeric=(1,), empty=text(lang, "sum.reviews.none")),)),
    ]
    return model(header, ReportKind.SUMMARY, lang, sections, subtitle=period)


# -- BIPA retention and destruction policy ----------------------------------------------

def build_retention_policy(header: Header, *, purposes: Sequence[Purpose],
                           site_names: Mapping[str, Text], last_sweep: AuditEvent | None,
                           templates: int, lang: Lang) -> ReportModel:
    """The public written policy BIPA 15(a) asks for, from the purposes' declared retention."""
    profile = header.profile
    cap = profile.retention_cap_days
    methods = ", ".join(value_label(lang, m) for m in sorted(profile.consent_methods))

    def days(p: Purpose) -> str:
        own = text(lang, "days", n=fmt_int(p.retention_days))
        return text(lang, "rp.days_cap", days=own, cap=text(lang, "days", n=fmt_int(cap))) \
            if cap else own

    sections = [
        Section(text(lang, "rp.about"), (
            Paragraph(text(lang, "rp.intro", processor=say(header.processor.name, lang))),
            KeyValues(processor_rows(header, lang)[:2]))),
        Section(text(lang, "rp.schedule"), (Table(
            columns=(text(lang, "col.purpose"), text(lang, "purpose.description"),
                     text(lang, "col.site"), text(lang, "purpose.retention"),
                     text(lang, "purpose.storage")),
            rows=tuple((p.key, say(p.description, lang),
                        say(site_names[p.site_key], lang) if p.site_key in site_names
                        else p.site_key, days(p),
                        value_label(lang, p.storage_mode)) for p in purposes),
            empty=text(lang, "none")),)),
        Section(text(lang, "rp.destruction"), (Paragraph(text(lang, "rp.destruction.text")),)),
        Section(text(lang, "rp.consent"), (
            Paragraph(text(lang, "rp.consent.text", methods=methods)),
            Paragraph(text(lang, "rp.no_sale")))),
        Section(text(lang, "rp.effective"), (KeyValues((
            (text(lang, "ret.templates"), fmt_int(templates)),
            (text(lang, "rp.last_sweep"), fmt_time(lang, last_sweep.at) if last_sweep
             else text(lang, "rp.never")))),)),
    ]
    return model(header, ReportKind.RETENTION_POLICY, lang, sections)
