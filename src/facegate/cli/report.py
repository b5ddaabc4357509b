"""``facegate report``: the documents a regulator asks for, as HTML or PDF.

A thin adapter over ``Deployment.report`` (see docs/reports.md); it writes the
file and prints one line with its hashes and the audit position it describes::

    facegate report pia --purpose access.office.entry --lang zh --format pdf --out pia.pdf
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import click

from ..clock import CHINA_TZ
from ..reports.models import Format, Lang, ReportKind
from .governed import db_option, open_store

__all__ = ["REPORT_COMMANDS", "parse_moment"]


def parse_moment(value: str | None, *, end: bool) -> datetime | None:
    """An ISO date or time from the command line; a bare date is a whole day in China
    Standard Time (its first moment for ``--since``, its last for ``--until``), a time
    without zone is CST too."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).date()
            start = datetime.combine(day, time(0), tzinfo=CHINA_TZ)
            return start + timedelta(days=1, microseconds=-1) if end else start
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


@click.command("report")
@db_option
@click.argument("kind", type=click.Choice([k.value for k in ReportKind]))
@click.option("--purpose", help="The purpose (notice, pia).")
@click.option("--subject", help="The subject's pseudonymous id (access).")
@click.option("--lang", type=click.Choice([v.value for v in Lang]), default=Lang.ZH.value,
              show_default=True, help="Language of the document.")
@click.option("--format", "fmt", type=click.Choice([v.value for v in Format]),
              default=Format.PDF.value, show_default=True)
@click.option("--out", type=click.Path(path_type=Path),
              help="File or existing folder to write; the current folder by default.")
@click.option("--since", help="Start of a summary's period (ISO date or time; dates in CST).")
@click.option("--until", help="End of a summary's period (inclusive).")
@click.option("--operator", default="system", show_default=True, help="Who asks, for the audit.")
def report_command(db: Path, kind: str, purpose: str | None, subject: str | None, lang: str,
                   fmt: str, out: Path | None, since: str | None, until: str | None,
                   operator: str) -> None:
    """Render KIND (notice, pia, filing, access, summary, retention-policy) from the
    deployment's records and record its generation in the audit log."""
    start, end = parse_moment(since, end=False), parse_moment(until, end=True)
    with open_store(db) as d:
        doc = d.report(kind, purpose=purpose, subject=subject, lang=lang, fmt=fmt,
                       since=start, until=end, operator=operator)
    target = out or Path(doc.filename)
    if target.is_dir():
        target = target / doc.filename
    target.write_bytes(doc.content)
    click.echo(f"wrote {target} ({doc.media_type}, {len(doc.content):,} bytes): sha256 "
               f"{doc.sha256}, content hash {doc.content_hash}, audit position "
               f"{doc.audit_seq}, recorded as audit entry {doc.recorded_seq}")


#: The commands :mod:`facegate.cli` adds to its group.
REPORT_COMMANDS: tuple[click.Command, ...] = (report_command,)
