"""``facegate backup`` and ``facegate restore``: a consistent copy of an SQLite store, and
putting one back without bringing an erased subject back.

``backup`` uses SQLite's online backup API, so the service may keep running. The
key file is not copied (keep it apart, docs/storage.md "Backup and restore").
``restore`` replaces the store with a backup (stop the service first), lends it
the key file kept with that backup (``--keys-from``), erases again every subject
in the erasure ledger kept beside the current keys, and rotates the
key-encryption key. For PostgreSQL, back up and restore with ``pg_dump`` and
``pg_restore``, then run ``facegate restore --db URL`` without ``--from``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..deployment import Deployment
from ..errors import Error
from .governed import db_option, open_store, refusal_line

__all__ = ["BACKUP_COMMANDS"]


@click.command("backup")
@db_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(db: str, target: Path) -> None:
    """Copy the SQLite store to TARGET (a new file), while it stays in use."""
    with open_store(db) as d:
        try:
            d.backup(target)
        except Error as exc:
            click.echo(refusal_line(exc), err=True)
            sys.exit(1)
    click.echo(f"{target}: a copy of {db} (the key file is not in it)")


@click.command("restore")
@db_option
@click.option("--from", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The backup to put back (an SQLite file from facegate backup); "
                                 "none after pg_restore.")
@click.option("--keys-from", "old_keys",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The key file kept with that backup (its keys open the restored data).")
def restore_command(db: str, source: Path | None, old_keys: Path | None) -> None:
    """Put a backup back; subjects erased since are erased again, and the key rotated."""
    keys = os.environ.get("FACEGATE_KEYS") or None
    try:
        d = Deployment.restore(db, backup=source, old_keys=old_keys, keys=keys)
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)
    with d:
        again = d.reapplied_erasures
        click.echo(f"{db}: restored{f' from {source}' if source else ''}; "
                   f"{len(again)} subject(s) erased again from the erasure ledger")


BACKUP_COMMANDS = (backup_command, restore_command)
