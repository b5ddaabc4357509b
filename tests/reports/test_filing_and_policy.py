"""The filing record with its due date in Chinese working days, the change record, the
BIPA retention and destruction policy (R22), and the ``facegate report`` command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.filing.calendar import add_working_days
from facegate.reports.formats import fmt_date, fmt_int
from facegate.reports.labels import text
from facegate.reports.models import Lang

from ..filing.test_counter import THRESHOLD_DAY, seed
from ..support.governed import add_purpose, consent
from ..support.words import both
from .test_documents import kv, tables

ACCESS = "access.office.entry"
ATTENDANCE = "hr.attendance"


@pytest.fixture
def filed(open_deployment: Callable[..., Deployment], clock: FixedClock,
          faces: dict[str, Path]) -> Deployment:
    """A cn-2023-draft deployment that reached 10,000 people on Friday 26 September 2025
    (before the National Day holiday), then added a purpose."""
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction="cn-2023-draft",
                         province=both("Shanghai"), security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ACCESS)
    add_purpose(d, ATTENDANCE, modes=("verify",))
    clock.set(THRESHOLD_DAY)
    seed(d, 0, 9_999, now=clock.now())
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    clock.advance(timedelta(days=3))
    add_purpose(d, "visitor.entry", modes=("verify",))
    return d


@pytest.mark.parametrize("lang", [Lang.ZH, Lang.EN])
def test_the_filing_record_is_due_30_chinese_working_days_after_the_threshold(
        filed: Deployment, lang: Lang) -> None:
    filing, change = [r for r in filed.filing_records() if r.kind != "early_warning"]
    assert filing.due_on == add_working_days(date(2025, 9, 26), 30) == date(2025, 11, 13)
    model = filed.report_model("filing", lang=lang)
    facts = kv(model)
    assert facts[text(lang, "filing.triggered_on")] == fmt_date(lang, date(2025, 9, 26))
    assert facts[text(lang, "filing.due_on")] == fmt_date(lang, date(2025, 11, 13))
    assert facts[text(lang, "filing.individuals_then")] == "10,000"
    assert facts[text(lang, "filing.individuals")] == fmt_int(filed.filing_status().individuals)
    assert facts[text(lang, "filing.threshold")] == "10,000"
    (purposes,) = tables(model, text(lang, "filing.purposes"))
    assert [r[0] for r in purposes.rows] == [p["purpose"] for p in
                                             filing.content["purposes_and_methods"]]
    assert [r[0] for r in purposes.rows] == [ACCESS, ATTENDANCE]
    (changes,) = tables(model, text(lang, "filing.changes"))
    assert changes.rows == ((fmt_date(lang, change.triggered_on), fmt_date(lang, change.due_on),
                             fmt_int(change.individuals), change.reason),)
    assert change.due_on == add_working_days(date(2025, 9, 29), 30)
    assert "visitor.entry" in change.reason
    (assessments,) = tables(model, text(lang, "filing.assessments"))
    assert len(assessments.rows) == len(filing.content["impact_assessments"]) == 2
    doc = filed.report("filing", lang=lang, fmt="pdf")
    assert doc.content.startswith(b"%PDF-")


@pytest.fixture
def bipa(open_deployment: Callable[..., Deployment]) -> Deployment:
    d = open_deployment("bipa.db")
    d.register_processor(name=both("Example Inc."), contact=both("privacy@example.com"),
                         credit_code="IL-0001", jurisdiction="us-il-bipa",
                         province=both("Illinois"),
                         security_measures=both("device storage"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ATTENDANCE, modes=("verify",))
    add_purpose(d, "access.lab.door", modes=("verify",), retention_days=1000)
    return d


@pytest.mark.parametrize("lang", [Lang.ZH, Lang.EN])
def test_r22_bipa_publishes_its_retention_and_destruction_policy(bipa: Deployment,
                                                                 lang: Lang) -> None:
    model = bipa.report_model("retention-policy", lang=lang)
    (schedule,) = tables(model, text(lang, "rp.schedule"))
    cap = text(lang, "days", n=fmt_int(3 * 365 + 1))
    assert [(r[0], r[3]) for r in schedule.rows] == [
        (p.key, text(lang, "rp.days_cap", days=text(lang, "days", n=fmt_int(p.retention_days)),
                     cap=cap)) for p in bipa.purposes()]
    assert kv(model)[text(lang, "rp.last_sweep")] == text(lang, "rp.never")
    bipa.sweep_retention()
    assert kv(bipa.report_model("retention-policy", lang=lang))[
        text(lang, "rp.last_sweep")] != text(lang, "rp.never")
    assert text(lang, "rp.no_sale") in model.canonical().decode("utf-8")
    doc = bipa.report("retention-policy", lang=lang, fmt="pdf")
    assert doc.content.startswith(b"%PDF-")


def test_the_report_command_writes_the_file_and_prints_its_hashes(
        books: Deployment, tmp_path: Path, analyzer: FaceAnalyzer) -> None:
    db = str(tmp_path / "facegate.db")
    out = tmp_path / "docs"
    out.mkdir()

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["report", *args, "--db", db],
                                    obj={"analyzer": analyzer})
        return result.exit_code, result.stdout, result.stderr

    code, stdout, _ = run("pia", "--purpose", ACCESS, "--lang", "en", "--format", "html",
                          "--out", str(out))
    assert code == 0, stdout
    (written,) = out.iterdir()
    assert written.name.startswith("pia-access.office.entry-en-")
    entry = books.audit_events("report-generated")[-1]
    assert stdout.startswith(f"wrote {written} (text/html; charset=utf-8, ")
    assert f"content hash {entry.detail['content_hash']}" in stdout
    assert f"recorded as audit entry {entry.seq}" in stdout

    code, stdout, _ = run("summary", "--since", "2025-09-01", "--until", "2025-09-01",
                          "--lang", "zh", "--out", str(out / "summary.pdf"))
    assert code == 0 and (out / "summary.pdf").read_bytes().startswith(b"%PDF-")
    assert books.audit_events("report-generated")[-1].detail["kind"] == "summary"

    code, _, stderr = run("retention-policy", "--format", "html", "--out", str(out))
    assert code == 1
    assert stderr.startswith("facegate: report.not_applicable: ") and stderr.count("\n") == 1
    code, _, stderr = run("notice", "--format", "html", "--out", str(out))
    assert code == 1 and stderr.startswith("facegate: argument.invalid: ")
