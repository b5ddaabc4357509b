"""The protected-storage commands of the ``facegate`` CLI: subject rights, retention,
export, keys and the audit check. A thin adapter over :class:`Deployment`, like
:mod:`facegate.cli.governed`; every failure is one line and exit status 1::

    facegate: audit.chain_broken: audit entry 7 was altered, moved or reordered
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..deployment import Deployment
from ..errors import Error
from .governed import db_option, echo_json, open_store, refusal_line

__all__ = ["RIGHTS_COMMANDS"]


@click.group("audit")
def audit_group() -> None:
    """The hash-chained processing log (R15)."""


@audit_group.command("verify")
@db_option
def audit_verify(db: Path) -> None:
    """Check every entry of the audit log and its signed checkpoint, and every template and
    consent row; name the first break."""
    with open_store(db) as d:
        report = d.verify_audit()
        click.echo(f"audit log intact: {report.entries} entries, signed checkpoint at entry "
                   f"{report.checkpoint_seq}, head {report.head}; templates and consent "
                   "ledger match it")


@click.group("store")
def store_group() -> None:
    """The store itself (R15, R16)."""


@store_group.command("upgrade")
@db_option
def store_upgrade(db: Path) -> None:
    """Upgrade a store an older facegate wrote, once (a key holder's explicit, audited act):
    verify what it holds, then seal, chain and tag it. Rows that do not verify are refused
    and named; nothing is changed then."""
    keys = os.environ.get("FACEGATE_KEYS") or None
    try:
        done = Deployment.upgrade(db, keys=keys, operator=f"cli:{os.getuid()}")
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)
    if done.form == "current":
        click.echo(f"store {db} is current; nothing to upgrade")
        return
    tagged = ", ".join(f"{n} {t}" for t, n in sorted((done.tagged or {}).items()))
    click.echo(f"store {db} upgraded from the {done.form} form: {done.sealed} template(s) "
               f"sealed, {done.chained} entries chained, rows tagged ({tagged}); "
               f"audit entry {done.seq}")


@click.group("keys")
def keys_group() -> None:
    """Key-encryption keys (R16)."""


@keys_group.command("rotate")
@db_option
def keys_rotate(db: Path) -> None:
    """Re-wrap every data key under a new key-encryption key; the old one is destroyed."""
    with open_store(db) as d:
        r = d.rotate_keys()
        retired = ", ".join(r.retired) or "none"
        click.echo(f"{r.data_keys} data key(s) re-wrapped under {r.kek}; retired: {retired}")


@click.group("retention")
def retention_group() -> None:
    """Retention periods (R9)."""


@retention_group.command("sweep")
@db_option
def retention_sweep(db: Path) -> None:
    """Erase every template and retained image past its purpose's retention."""
    with open_store(db) as d:
        s = d.sweep_retention()
        click.echo(f"erased {s.templates} expired template(s) and {s.images} image(s) of "
                   f"{len(s.subjects)} subject(s); {s.data_keys_destroyed} data key(s) "
                   "destroyed")


@click.group("rights")
def rights_group() -> None:
    """A subject's access and erasure requests (R23)."""


@rights_group.command("access")
@db_option
@click.option("--subject", required=True)
def rights_access(db: Path, subject: str) -> None:
    """Print everything held about SUBJECT as JSON (templates as metadata, never vectors)."""
    with open_store(db) as d:
        echo_json(d.access_report(subject).as_dict())


@rights_group.command("erase")
@db_option
@click.option("--subject", required=True)
def rights_erase(db: Path, subject: str) -> None:
    """Erase SUBJECT: templates, retained images, consents and the data key."""
    with open_store(db) as d:
        r = d.erase_subject(subject)
        click.echo(f"erased {subject}: {r.templates} template(s), {r.images} image(s), "
                   f"{r.consents} consent event(s); data key destroyed; receipt: audit "
                   f"entry {r.seq}")


@click.command("export")
@db_option
@click.option("--subject", required=True)
@click.option("--purpose", required=True)
def export_command(db: Path, subject: str, purpose: str) -> None:
    """Export SUBJECT's templates for PURPOSE as JSON (needs transfer consent, R8)."""
    with open_store(db) as d:
        echo_json(d.export_templates(subject=subject, purpose=purpose))


#: The commands :mod:`facegate.cli` adds to its group.
RIGHTS_COMMANDS: tuple[click.Command, ...] = (
    audit_group, keys_group, retention_group, rights_group, export_command, store_group,
)
