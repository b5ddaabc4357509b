"""The review commands of the ``facegate`` CLI (R19): list cases, confirm, reject, act.

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
@click.option("--reviewer", "reviewers", multiple=True,
              help="Authorise a reviewer for the purpose (repeatable); a staff account is "
                   "staff:<name> (or use `facegate staff authorise`).")
@click.option("--bar-own", is_flag=True,
              help="Whoever registered the purpose or ran the identification may not decide "
                   "its cases.")
def review_setup(db: Path, purpose: str, window_hours: float,
                 reviewers: tuple[str, ...], bar_own: bool) -> None:
    """Turn PURPOSE's identification hits into review cases; authorise reviewers."""
    with open_store(db) as d:
        settings = d.configure_review(purpose=purpose, window=timedelta(hours=window_hours),
                                      bar_own=bar_own)
        for reviewer in reviewers:
            d.authorise_reviewer(purpose=purpose, reviewer=reviewer)
        click.echo(f"review on for {purpose}: window {settings.window_seconds} s, "
                   f"reviewers {', '.join(reviewers) or 'none added'}")


@review_group.command("list")
@db_option
@click.option("--purpose")
@click.option("--status", type=click.Choice(["pending", "confirmed", "rejected", "expired"]))
def review_list(db: Path, purpose: str | None, status: str | None) -> None:
    """List review cases, oldest first."""
    with open_store(db) as d:
        for c in d.review_cases(purpose=purpose, status=status):
            click.echo(f"{c.id}\t{c.status}\t{c.purpose_key}\t{c.subject_id}\t"
                       f"distance {c.distance:.4f}\t{c.confirmations}/{c.reviewers_required}"
                       f"\tdeadline {c.deadline.isoformat()}")


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
