"""The protected-storage commands: export, access, erasure, rotation, the sweep, the audit check."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.deployment import Deployment

from ..support.governed import consent

ACCESS = "access.office.entry"


def test_r8_r9_r16_r23_subject_rights_through_the_cli(
        books: Deployment, faces: dict[str, Path], tmp_path: Path,
        analyzer: FaceAnalyzer) -> None:
    db = str(tmp_path / "facegate.db")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--db", db], obj={"analyzer": analyzer})

    alice = books.register_subject(age_band="adult").id
    consent(books, alice, ACCESS)
    refused = run("enroll", "--subject", alice, "--purpose", ACCESS, "--retain-image",
                  str(faces["obama"]))
    assert refused.exit_code == 1
    assert refused.stderr.startswith("facegate: image.retention_refused: ")
    assert refused.stderr.count("\n") == 1 and "[R10 cn-2025" in refused.stderr
    books.enroll(subject=alice, purpose=ACCESS, image=faces["obama"])  # on the fixed clock
    export = run("export", "--subject", alice, "--purpose", ACCESS)
    assert export.exit_code == 1
    assert export.stderr.startswith("facegate: transfer.not_permitted: ")
    assert export.stderr.count("\n") == 1 and "[R8 cn-2025" in export.stderr
    report = json.loads(run("rights", "access", "--subject", alice).stdout)
    assert [t["purpose"] for t in report["templates"]] == [ACCESS]
    assert "descriptor" not in json.dumps(report)
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0 and rotated.stdout.startswith("1 data key(s) re-wrapped")
    # The CLI runs on the system clock, a year past the fixed clock's enrollment.
    swept = run("retention", "sweep")
    assert swept.stdout.startswith("erased 1 expired template(s)"), swept.output
    erased = run("rights", "erase", "--subject", alice)
    assert erased.exit_code == 0 and erased.stdout.startswith(f"erased {alice}: 0 template(s)")
    after = json.loads(run("rights", "access", "--subject", alice).stdout)
    assert after["erased"] and len(after["erasures"]) == 1 and not after["events"]
    again = run("rights", "erase", "--subject", alice)
    assert again.exit_code == 1 and again.stderr.startswith("facegate: subject.not_found: ")
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("audit log intact: ")
