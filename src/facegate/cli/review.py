"""The review commands of the ``facegate`` CLI (R19): list cases, show one, confirm,
reject, act. The CLI shows a case's score with its false-match rate and interval and
says where its faces are seen; it writes no image.

A thin adapter over :class:`~facegate.deployment.Deployment`, like
:mod:`facegate.cli.governed`; every failure is one line and exit status 1::

    facegate: review.same_reviewer: 'rev-a' already reviewed case case_...; a second
    reviewer must decide [R19 eu-gdpr-ai-act AI Act Art. 14(5)]
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from .governed import db_option, open_store

__all__ = ["REVIEW_COMMANDS"]


@click.group("review")
def review_group() -> None:
    """Human review of identification hits (R19)."""


@review_group.command("setup")
@db_option
@click.option("--purpose", required=True)
@click.option("--window-hours", type=float, default=24.0, show_default=True,
              help="How long a case (and its sealed probe image) waits for a decision.")
@click.option("--confirmations", type=click.IntRange(1, 5), default=None,
              help="Distinct reviewers who confirm a hit [default and least: the "
                   "jurisdiction's minimum].")
@click.option("--reviewer", "reviewers", multiple=True,
              help="Authorise a reviewer for the purpose (repeatable); a staff account is "
                   "staff:<name> (or use `facegate staff authorise`).")
@click.option("--bar-own", is_flag=True,
              help="Whoever registered the purpose or ran the identification may not decide "
                   "its cases.")
def review_setup(db: Path, purpose: str, window_hours: float, confirmations: int | None,
                 reviewers: tuple[str, ...], bar_own: bool) -> None:
    """Turn PURPOSE's identification hits into review cases; authorise reviewers."""
    with open_store(db) as d:
        settings = d.configure_review(purpose=purpose, window=timedelta(hours=window_hours),
                                      reviewers=confirmations, bar_own=bar_own)
        for reviewer in reviewers:
            d.authorise_reviewer(purpose=purpose, reviewer=reviewer)
        click.echo(f"review on for {purpose}: window {settings.window_seconds} s, "
                   f"{settings.reviewers} distinct confirmations per hit, "
                   f"reviewers {', '.join(reviewers) or 'none added'}")


@review_group.command("list")
@db_option
@click.option("--purpose")
@click.option("--status", type=click.Choice(["pending", "confirmed", "rejected", "expired"]))
def review_list(db: Path, purpose: str | None, status: str | None) -> None:
    """List review cases, oldest first."""
    with open_store(db) as d:
        for c in d.review_cases(purpose=purpose, status=status):
            fmr = d.review_evidence(c.id).fmr
            click.echo(f"{c.id}\t{c.status}\t{c.purpose_key}\t{c.subject_id}\t"
                       f"distance {c.distance:.4f}\t{c.confirmations}/{c.reviewers_required}"
                       f"\tdeadline {c.deadline.isoformat()}\t"
                       f"FMR {fmr.describe() if fmr else 'unknown (no calibration)'}")


#: Where a reviewer sees a case's faces, per language (the CLI writes no image).
_FACES = {
    "en": ("faces: shown only to an authorised reviewer while the case is pending, in the "
           "dashboard's review queue (/dashboard/review) or by GET "
           "/v1/review/cases/{case}/probe{reference} of `facegate serve`; the command line "
           "writes no image"),
    "zh": ("人脸：仅在案件待定期间向获授权的复核人显示，见控制台复核队列（/dashboard/review），"
           "或通过 `facegate serve` 的 GET /v1/review/cases/{case}/probe{reference}；"
           "命令行不输出任何图像"),
}
_WORDS = {
    "en": {"fmr": "false-match rate", "none": "unknown: the purpose has no calibration",
           "pairs": "{errors} of {pairs} different-person pairs, {calibration}",
           "kept": "reference photo: kept with its own consent"},
    "zh": {"fmr": "误识率", "none": "未知：该用途没有校准",
           "pairs": "{pairs} 对不同人中 {errors} 对，{calibration}",
           "kept": "参考照片：经单独同意保留"},
}


@review_group.command("show")
@db_option
@click.argument("case")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True)
def review_show(db: Path, case: str, lang: str) -> None:
    """Show CASE: its score with the false-match rate and 95% interval on the purpose's
    calibration, whether a reference photo was kept (else what to check instead), and
    where its faces are seen."""
    words = _WORDS[lang]
    with open_store(db) as d:
        evidence = d.review_evidence(case)
    c, fmr = evidence.case, evidence.fmr
    click.echo(f"{c.id}\t{c.status}\t{c.purpose_key}\t{c.subject_id}\t"
               f"distance {c.distance:.4f}\t{c.confirmations}/{c.reviewers_required}\t"
               f"deadline {c.deadline.isoformat()}")
    if fmr is None:
        click.echo(f"{words['fmr']}: {words['none']}")
    else:
        click.echo(f"{words['fmr']}: {fmr.describe(lang)} (" + words["pairs"].format(
            errors=fmr.false_matches, pairs=fmr.pairs, calibration=fmr.calibration) + ")")
    click.echo(words["kept"] if evidence.reference or evidence.instead is None
               else evidence.instead[lang])
    click.echo(_FACES[lang].format(case=c.id, reference=" (/reference)"
                                   if evidence.reference else ""))


@review_group.command("confirm")
@db_option
@click.argument("case")
@click.option("--reviewer", required=True)
@click.option("--reason", required=True)
def review_confirm(db: Path, case: str, reviewer: str, reason: str) -> None:
    """Confirm CASE as REVIEWER."""
    with open_store(db) as d:
        c = d.confirm_case(case, reviewer=reviewer, reason=reason)
        click.echo(f"{c.id}: {c.status} ({c.confirmations}/{c.reviewers_required})")


@review_group.command("reject")
@db_option
@click.argument("case")
@click.option("--reviewer", required=True)
@click.option("--reason", required=True)
def review_reject(db: Path, case: str, reviewer: str, reason: str) -> None:
    """Reject CASE as REVIEWER."""
    with open_store(db) as d:
        c = d.reject_case(case, reviewer=reviewer, reason=reason)
        click.echo(f"{c.id}: {c.status}")


@review_group.command("act")
@db_option
@click.argument("case")
@click.option("--action", required=True, help="What is done on the hit, e.g. open-door.")
@click.option("--operator", default="system", show_default=True)
def review_act(db: Path, case: str, action: str, operator: str) -> None:
    """Act on a confirmed CASE (refused otherwise)."""
    with open_store(db) as d:
        c = d.act_on_case(case, action=action, operator=operator)
        click.echo(f"{c.id}: {action} recorded")


#: The commands :mod:`facegate.cli` adds to its group.
REVIEW_COMMANDS: tuple[click.Command, ...] = (review_group,)
