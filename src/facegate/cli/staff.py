"""The staff account commands of the ``facegate`` CLI: add, list, disable, enable, and
authorise a reviewer account for a purpose.

People sign in to the dashboard with an account (name, password, TOTP code); API keys
(``facegate api-key``) are for machines. ``staff add`` prints the TOTP secret and its
``otpauth://`` URI once; the store keeps the secret only sealed.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from .governed import db_option, open_store

__all__ = ["STAFF_COMMANDS"]


def _operator() -> str:
    return f"cli:{os.getuid()}"


@click.group("staff")
def staff_group() -> None:
    """Named staff accounts for the dashboard (password and TOTP)."""


@staff_group.command("add")
@db_option
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "operator", "reviewer", "auditor"]),
              required=True)
@click.option("--display-name", help="The person's name as shown (default: NAME).")
@click.option("--purpose", "purposes", multiple=True, help="Limit to this purpose (repeat).")
@click.option("--site", "sites", multiple=True, help="Limit to this site (repeat).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="FACEGATE_STAFF_PASSWORD",
              help="At least 12 characters (prompted when not given; or "
                   "$FACEGATE_STAFF_PASSWORD).")
def staff_add(db: Path, name: str, role: str, display_name: str | None,
              purposes: tuple[str, ...], sites: tuple[str, ...], password: str) -> None:
    """Add account NAME and print its TOTP secret and URI (shown only now)."""
    with open_store(db) as d:
        made = d.add_staff(name=name, display_name=display_name or name, role=role,
                           password=password, purposes=purposes or None, sites=sites or None,
                           operator=_operator())
    click.echo(f"{made.account.principal}\t{made.account.role}\t{made.account.id}")
    click.echo(f"totp secret: {made.totp_secret}")
    click.echo(f"totp uri: {made.provisioning_uri}")


@staff_group.command("list")
@db_option
def staff_list(db: Path) -> None:
    """Every account (never a password hash or TOTP secret)."""
    with open_store(db) as d:
        for a in d.staff_accounts():
            scope = ",".join(sorted(a.purposes)) if a.purposes is not None else "*"
            state = "disabled" if a.disabled else "enabled"
            click.echo(f"{a.name}\t{a.role}\t{state}\t{scope}\t{a.display_name}")


@staff_group.command("disable")
@db_option
@click.argument("name")
def staff_disable(db: Path, name: str) -> None:
    """Disable account NAME at once; its dashboard sessions end."""
    with open_store(db) as d:
        a = d.disable_staff(name, operator=_operator())
    click.echo(f"{a.principal}: disabled")


@staff_group.command("enable")
@db_option
@click.argument("name")
def staff_enable(db: Path, name: str) -> None:
    """Enable account NAME again."""
    with open_store(db) as d:
        a = d.enable_staff(name, operator=_operator())
    click.echo(f"{a.principal}: enabled")


@staff_group.command("authorise")
@db_option
@click.argument("name")
@click.option("--purpose", required=True, help="The purpose whose cases NAME may review.")
def staff_authorise(db: Path, name: str, purpose: str) -> None:
    """Authorise reviewer account NAME to decide PURPOSE's review cases (R19)."""
    with open_store(db) as d:
        a = d.authorise_reviewer_account(purpose=purpose, account=name, operator=_operator())
    click.echo(f"{a.principal}: may review {purpose}")


#: The commands :mod:`facegate.cli` adds to its group.
STAFF_COMMANDS: tuple[click.Command, ...] = (staff_group,)
