"""``facegate staff``: add (the TOTP secret printed once), list, disable, enable, and
authorise a reviewer account; refusals are one line and exit 1."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from facegate.cli import cli
from facegate.deployment import Deployment
from facegate.errors import CredentialInvalid

from ..support.governed import add_purpose
from ..support.words import both

PASSWORD = "correct horse battery"


def test_staff_accounts_from_the_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Ex"), contact=both("dpo@example.com"), credit_code="1")
    added = CliRunner().invoke(cli, ["staff", "add", "wang", "--role", "reviewer",
                                     "--display-name", "Wang Fang", "--db", db],
                               input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    lines = added.stdout.strip().splitlines()
    assert lines[-3].startswith("staff:wang\treviewer\ts_")
    secret = lines[-2].removeprefix("totp secret: ")
    assert lines[-1].startswith("totp uri: otpauth://totp/") and f"secret={secret}" in lines[-1]
    listed = CliRunner().invoke(cli, ["staff", "list", "--db", db]).stdout
    assert "wang\treviewer\tenabled\t*\tWang Fang" in listed and secret not in listed
    with Deployment.open(db) as d:
        now = time.time()
        assert d.sign_in_staff(name="wang", password=PASSWORD, client="t", now=now,
                               code=pyotp.TOTP(secret).at(now)).principal == "staff:wang"
    assert CliRunner().invoke(cli, ["staff", "disable", "wang", "--db", db]).exit_code == 0
    assert "wang\treviewer\tdisabled" in CliRunner().invoke(
        cli, ["staff", "list", "--db", db]).stdout
    with Deployment.open(db) as d, pytest.raises(CredentialInvalid):
        later = time.time() + 60
        d.sign_in_staff(name="wang", password=PASSWORD, client="t", now=later,
                        code=pyotp.TOTP(secret).at(later))
    assert CliRunner().invoke(cli, ["staff", "enable", "wang", "--db", db]).exit_code == 0
    taken = CliRunner().invoke(cli, ["staff", "add", "wang", "--role", "admin", "--db", db],
                               env={"FACEGATE_STAFF_PASSWORD": PASSWORD})
    assert taken.exit_code == 1 and taken.stderr.startswith("facegate: registry.conflict")
    short = CliRunner().invoke(cli, ["staff", "add", "li", "--role", "admin", "--db", db],
                               env={"FACEGATE_STAFF_PASSWORD": "short"})
    assert short.exit_code == 1 and short.stderr.startswith("facegate: argument.invalid")
    unknown = CliRunner().invoke(cli, ["staff", "disable", "nobody", "--db", db])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("facegate: registry.not_found")


def test_a_reviewer_account_is_authorised_from_the_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Ex"), contact=both("dpo@example.com"), credit_code="1",
                             province=both("Shanghai"), security_measures=both("locks"))
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        add_purpose(d, "visitor.desk", modes=("verify",))
        d.add_staff(name="wang", display_name="Wang", role="reviewer", password=PASSWORD)
    r = CliRunner().invoke(cli, ["staff", "authorise", "wang", "--purpose", "visitor.desk",
                                 "--db", db])
    assert r.exit_code == 0 and "staff:wang: may review visitor.desk" in r.stdout
    setup = CliRunner().invoke(cli, ["review", "setup", "--purpose", "visitor.desk",
                                     "--bar-own", "--db", db])
    assert setup.exit_code == 0, setup.output
    with Deployment.open(db) as d:
        assert d.review_settings("visitor.desk").bar_own  # type: ignore[union-attr]
        assert [e.detail["reviewer"] for e in d.audit_events("reviewer-authorised")] == [
            "staff:wang"]
