"""The documents a regulator asks for, from the deployment's own records.

:meth:`Reports.report` gathers the records in one read, builds the document
model (pure, :mod:`facegate.reports`), renders it as HTML or PDF and records
the generation in the audit trail (``report-generated``: kind, language,
format, the audit position it describes, its content hash and the file's
SHA-256). Example::

    doc = d.report("pia", purpose="access.office.entry", lang="zh", fmt="pdf")
    Path(doc.filename).write_bytes(doc.content)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..audit.trail import head_seq, list_events
from ..consent.alternatives import list_outcomes
from ..consent.ledger import ConsentScope, count_live
from ..engine.pack_install import find_pack
from ..errors import AuditChainBroken, InvalidArgument, ProcessorNotRegistered, ReportNotApplicable
from ..filing.counter import filing_status
from ..organisation.repository import get_processor, list_sites
from ..policy import gate
from ..policy.decision import Decision
from ..purposes.repository import latest_notice, list_assessments, list_purposes
from ..purposes.statements import assessment_statements, notice_statements
from ..reports.facts import ChainStatus, FilingEntry, Header, PurposeRecords, SummaryRecords
from ..reports.models import Document, Format, Lang, ReportKind, ReportModel
from ..reports.purpose_docs import build_notice, build_pia
from ..reports.record_docs import (
    build_access,
    build_filing,
    build_retention_policy,
    build_summary,
)
from ..reports.render import render
from ..review.store import count_cases, list_reviewers
from ..storage.connection import Connection
from ..templates.store import purpose_template_stats
from .rights import Rights

__all__ = ["ReportJob", "Reports"]

#: The rule whose profile publishes a retention and destruction policy (BIPA 15(a)).
_POLICY_RULE = "R22"


class Reports(Rights):
    """Documents for regulators, auditors and subjects; part of
    :class:`~facegate.deployment.Deployment`."""

    _report_process: Callable[[ReportJob], Document] | None = None

    def report(self, kind: ReportKind | str, *, purpose: str | None = None,
               subject: str | None = None, lang: Lang | str = Lang.EN,
               fmt: Format | str = Format.HTML, since: datetime | None = None,
               until: datetime | None = None, operator: str = "system") -> Document:
        """Render one document and record its generation in the audit log.

        Args:
            kind: ``notice``, ``pia``, ``filing``, ``access``, ``summary`` or
                ``retention-policy``.
            purpose: the purpose (``notice`` and ``pia`` need one).
            subject: the subject (``access`` needs one).
            lang: ``zh`` or ``en``.
            fmt: ``html`` or ``pdf``.
            since, until: the period of a ``summary`` (both inclusive; open when ``None``,
                ``until`` then being now).
            operator: who asked, for the audit entry.

        Returns:
            The :class:`~facegate.reports.models.Document`: bytes, media type, SHA-256 of
            the bytes, the content hash printed in its footer, the audit position it
            describes (``audit_seq``) and the entry recording its generation
            (``recorded_seq``).

        Raises:
            InvalidArgument: an unknown kind, language or format, or a missing purpose
                or subject.
            PurposeNotRegistered, SubjectNotFound: no such purpose or subject.
            ReportNotApplicable: ``retention-policy`` outside a profile with R22 (BIPA).
            ReportRendererMissing: jinja2 or weasyprint is not installed.
        """
        chosen = _enum(Format, fmt, "format")
        which = _enum(ReportKind, kind, "kind")
        language = _enum(Lang, lang, "language")
        if which in _PURPOSE_KINDS and purpose:
            with self._unit() as conn:
                self._enforce(conn, self._document_decision(conn, which, purpose, language),
                              f"report-{which.value}", operator=operator, purpose_key=purpose)
        if self._report_process is not None:
            job = ReportJob(kind=which.value, purpose=purpose, subject=subject,
                            lang=language.value, fmt=chosen.value, since=since, until=until,
                            operator=operator, now=self._clock.now())
            document = self._report_process(job)
        else:
            built = self.report_model(which, purpose=purpose, subject=subject, lang=language,
                                      since=since, until=until, operator=operator)
            document = render(built, chosen)
        with self._unit() as conn:
            seq = self._audit(conn, "report-generated", operator=operator,
                              purpose_key=purpose if document.kind in _PURPOSE_KINDS else None,
                              subject_id=subject if document.kind is ReportKind.ACCESS else None,
                              detail={"kind": document.kind.value, "lang": document.lang.value,
                                      "format": chosen.value, "audit_seq": document.audit_seq,
                                      "content_hash": document.content_hash,
                                      "sha256": document.sha256, "filename": document.filename})
        return dataclasses.replace(document, recorded_seq=seq)

    def use_report_process(self, build: Callable[[ReportJob], Document] | None) -> None:
        """Gather and render documents with ``build`` (the service does both in separate
        low-priority processes: the records of an impact assessment or a summary are the
        whole audit log, checked entry by entry, and WeasyPrint holds the interpreter lock,
        so either would stall every request of the process); ``None``: in the calling
        thread. The generation is recorded here either way."""
        self._report_process = build

    def build_document(self, job: ReportJob) -> Document:
        """The document ``job`` asks for, gathered and rendered here and not recorded: what a
        report process runs (:meth:`use_report_process`)."""
        model = self.report_model(job.kind, purpose=job.purpose, subject=job.subject,
                                  lang=job.lang, since=job.since, until=job.until,
                                  operator=job.operator, now=job.now)
        return render(model, Format(job.fmt))

    def report_model(self, kind: ReportKind | str, *, purpose: str | None = None,
                     subject: str | None = None, lang: Lang | str = Lang.EN,
                     since: datetime | None = None, until: datetime | None = None,
                     operator: str = "system", now: datetime | None = None) -> ReportModel:
        """The document model behind :meth:`report`, without rendering or recording it
        (an ``access`` model still records the subject's access, as
        :meth:`access_report` does). ``now``: the generation time (the clock's by default)."""
        at = now or self._clock.now()
        which = _enum(ReportKind, kind, "kind")
        language = _enum(Lang, lang, "language")
        if which is ReportKind.ACCESS:
            if not subject:
                raise InvalidArgument("an access report names a subject (--subject)")
            held = self.access_report(subject, operator=operator)
            return build_access(self._header(self._conn, at), held.as_dict(), language)
        if which in _PURPOSE_KINDS:
            if not purpose:
                raise InvalidArgument(f"a {which.value} document names a purpose (--purpose)")
            self._document_decision(self._conn, which, purpose, language).enforce()
            records = self._purpose_records(self._conn, purpose)
            build = build_notice if which is ReportKind.NOTICE else build_pia
            return build(self._header(self._conn, at), records, language)
        if which is ReportKind.FILING:
            return self._filing_model(language, at)
        if which is ReportKind.SUMMARY:
            return self._summary_model(language, since, until, at)
        return self._policy_model(language, at)

    # -- gathering the records -------------------------------------------------------

    def _document_decision(self, conn: Connection, kind: ReportKind, key: str,
                           lang: Lang) -> Decision:
        """Whether the notice or impact assessment of purpose ``key`` may be issued in
        ``lang`` as it is generated now: every record text it shows and the deployer's
        own words exist in ``lang`` (``notice.incomplete``, ``assessment.missing``), it
        states the records' facts as they are and no paragraph contradicts them
        (``document.inconsistent``). A document with no notice or assessment yet says so
        and has nothing to contradict."""
        purpose = self._purpose(conn, key)
        setting = self._setting(conn, purpose)
        profile = self._profile(conn)
        if kind is ReportKind.NOTICE:
            notice = latest_notice(conn, purpose_key=key)
            if notice is None:
                return gate.check_document(purpose, setting.site, setting.processor,
                                           setting.reviewers, (), profile,
                                           document="notice", lang=lang.value)
            return gate.check_document(
                purpose, setting.site, setting.processor, setting.reviewers,
                notice_statements(setting, notice.content, lang.value), profile,
                document="notice", lang=lang.value, content=notice.content)
        signed = list_assessments(conn, purpose_key=key)
        if not signed:
            return gate.check_document(purpose, setting.site, setting.processor,
                                       setting.reviewers, (), profile,
                                       document="assessment", lang=lang.value)
        latest = signed[-1]
        return gate.check_document(
            purpose, setting.site, setting.processor, setting.reviewers,
            assessment_statements(setting, latest.content, lang.value), profile,
            document="assessment", lang=lang.value, content=latest.content,
            signed_by=latest.signed_by)

    def _header(self, conn: Connection, at: datetime) -> Header:
        processor = get_processor(conn)
        if processor is None:
            raise ProcessorNotRegistered("register the processor first (facegate init)")
        return Header(processor=processor, profile=self._profile(conn),
                      generated_at=at, audit_seq=head_seq(conn))

    def _chain(self) -> ChainStatus:
        try:
            report = self.verify_audit()
        except AuditChainBroken as exc:
            return ChainStatus(intact=False, entries=0, checkpoint_seq=0, message=exc.message)
        return ChainStatus(intact=True, entries=report.entries,
                           checkpoint_seq=report.checkpoint_seq)

    def _purpose_records(self, conn: Connection, key: str) -> PurposeRecords:
        purpose = self._purpose(conn, key)
        pack = find_pack(purpose.pack)
        shipped = (self._shipped(purpose, purpose.pack)
                   if purpose.calibration_id is None and purpose.threshold is None else None)
        templates, individuals, next_expiry = purpose_template_stats(conn, purpose_key=key)
        results = Counter(o.result.value for o in list_outcomes(conn, purpose_key=key))
        return PurposeRecords(
            purpose=purpose, site=self._site(conn, purpose.site_key),
            notice=latest_notice(conn, purpose_key=key),
            assessments=tuple(list_assessments(conn, purpose_key=key)),
            calibration=self._calibration(conn, purpose.calibration_id),
            threshold=self._threshold(purpose, purpose.pack), shipped=shipped,
            pack_version=pack.version, templates=templates, individuals=individuals,
            next_expiry=next_expiry, events=tuple(list_events(conn, purpose_key=key)),
            alternative_results=dict(results),
            transfer_consents=count_live(conn, guard=self._guard(conn), purpose_key=key,
                                         scope=ConsentScope.TRANSFER),
            reviewers=tuple(list_reviewers(conn, purpose_key=key)),
            reviewers_required=self._reviewers_required(conn, key),
            chain=self._chain(), sweeps=tuple(list_events(conn, name="retention-sweep")))

    def _filing_model(self, lang: Lang, at: datetime) -> ReportModel:
        conn = self._conn
        header = self._header(conn, at)
        status = filing_status(conn, profile=header.profile)
        entries = [FilingEntry(kind=r.kind.value, individuals=r.individuals,
                               threshold=r.threshold, triggered_on=r.triggered_on,
                               due_on=r.due_on, reason=r.reason, content=r.content)
                   for r in status.records]
        return build_filing(header, individuals=status.individuals,
                            warning_at=status.warning_at, records=entries, lang=lang)

    def _summary_model(self, lang: Lang, since: datetime | None,
                       until: datetime | None, at: datetime) -> ReportModel:
        conn = self._conn
        header = self._header(conn, at)
        end = until or header.generated_at
        if since is not None and since > end:
            raise InvalidArgument("the period's start is after its end",
                                  details={"since": since.isoformat(), "until": end.isoformat()})
        purposes = tuple(list_purposes(conn))
        alternatives = {
            p.key: dict(Counter(o.result.value for o in list_outcomes(conn, purpose_key=p.key)
                                if (since is None or o.recorded_at >= since)
                                and o.recorded_at <= end))
            for p in purposes}
        records = SummaryRecords(
            since=since, until=end, purposes=purposes,
            sites={s.key: s for s in list_sites(conn)},
            events=tuple(list_events(conn, since=since, until=end)),
            alternative_results=alternatives,
            review_statuses=count_cases(conn, since=since, until=end), chain=self._chain())
        return build_summary(header, records, lang)

    def _policy_model(self, lang: Lang, at: datetime) -> ReportModel:
        conn = self._conn
        header = self._header(conn, at)
        if not header.profile.applies(_POLICY_RULE):
            raise ReportNotApplicable(
                f"the retention and destruction policy is published under profiles with "
                f"{_POLICY_RULE} (us-il-bipa); this deployment runs {header.profile.key}",
                details={"rule": _POLICY_RULE, "jurisdiction": header.profile.key})
        purposes = list_purposes(conn)
        sweeps = list_events(conn, name="retention-sweep")
        return build_retention_policy(
            header, purposes=purposes, site_names={s.key: s.name for s in list_sites(conn)},
            last_sweep=sweeps[-1] if sweeps else None,
            templates=sum(purpose_template_stats(conn, purpose_key=p.key)[0]
                          for p in purposes), lang=lang)


_PURPOSE_KINDS = (ReportKind.NOTICE, ReportKind.PIA)


@dataclass(frozen=True, slots=True)
class ReportJob:
    """One document to gather and render elsewhere (a report process): what
    :meth:`Reports.report` was asked, and the generation time."""

    kind: str
    purpose: str | None
    subject: str | None
    lang: str
    fmt: str
    since: datetime | None
    until: datetime | None
    operator: str
    now: datetime


_E = TypeVar("_E", ReportKind, Lang, Format)


def _enum(cls: type[_E], value: str, what: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        raise InvalidArgument(f"unknown {what} {value!r}; known: "
                              f"{', '.join(m.value for m in cls)}",
                              details={what: str(value)}) from None
