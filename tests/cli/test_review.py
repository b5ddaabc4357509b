"""The review commands: setup, identify into cases, list, confirm, reject, act; one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.deployment import Deployment

from ..support.governed import add_purpose, consent
from ..support.words import both

WATCH = "access.lab.entry"


def test_r19_review_through_the_cli(open_deployment: Callable[..., Deployment],
                                    faces: dict[str, Path], tmp_path: Path,
                                    analyzer: FaceAnalyzer) -> None:
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", jurisdiction="eu-gdpr-ai-act")
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, WATCH)
    subject = d.register_subject(age_band="adult").id
    consent(d, subject, WATCH)
    db = str(tmp_path / "facegate.db")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", db], obj={"analyzer": analyzer})

    # The CLI runs on the system clock: enroll and identify through it.
    assert run("enroll", "--subject", subject, "--purpose", WATCH,
               str(faces["obama"])).exit_code == 0
    setup = run("review", "setup", "--purpose", WATCH, "--reviewer", "rev-a",
                "--reviewer", "rev-b")
    assert setup.exit_code == 0 and setup.stdout.startswith(f"review on for {WATCH}")
    found = run("identify", "--purpose", WATCH, str(faces["obama2"]))
    assert found.stdout.startswith(f"candidate {subject}: distance ")
    assert "review case case_" in found.stdout
    listed = run("review", "list", "--status", "pending")
    (line,) = listed.stdout.splitlines()
    case = line.split("\t")[0]
    assert line.split("\t")[1:4] == ["pending", WATCH, subject]
    assert line.split("\t")[-1].startswith("FMR ") and "95% CI" in line
    shown = run("review", "show", case)
    assert shown.exit_code == 0, shown.output
    fmr = next(x for x in shown.stdout.splitlines() if x.startswith("false-match rate: "))
    assert "0.0%" not in fmr and "(95% CI " in fmr and "different-person pairs" in fmr
    assert "No reference photo of this candidate was kept" in shown.stdout
    assert f"/v1/review/cases/{case}/probe" in shown.stdout and "writes no image" in shown.stdout
    zh = run("review", "show", case, "--lang", "zh").stdout
    assert "误识率" in zh and "95% 置信区间" in zh and "身份证件" in zh
    act = run("review", "act", case, "--action", "open-door")
    assert act.exit_code == 1 and act.stderr.count("\n") == 1
    assert act.stderr.startswith("facegate: review.not_confirmed: ")
    assert act.stderr.endswith("[R19 eu-gdpr-ai-act AI Act Art. 14(5)]\n")
    assert run("review", "confirm", case, "--reviewer", "rev-a", "--reason",
               "same face").stdout == f"{case}: pending (1/2)\n"
    twice = run("review", "confirm", case, "--reviewer", "rev-a", "--reason", "sure")
    assert twice.exit_code == 1 and twice.stderr.startswith("facegate: review.same_reviewer: ")
    assert run("review", "confirm", case, "--reviewer", "rev-b", "--reason",
               "agree").stdout == f"{case}: confirmed (2/2)\n"
    assert run("review", "act", case, "--action", "open-door").exit_code == 0
    stranger = run("identify", "--purpose", WATCH, str(faces["lennon1"]))
    assert stranger.stdout.startswith("no_match")
    again = run("identify", "--purpose", WATCH, str(faces["obama2"]))
    second = again.stdout.split("review case ")[1].split(" ")[0]
    rejected = run("review", "reject", second, "--reviewer", "rev-b", "--reason", "no")
    assert rejected.stdout == f"{second}: rejected\n"
