"""The governed CLI: the same flow through ``facegate`` commands, refusals as one cited line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.demo.governed import demo_assessment, demo_notice
from facegate.deployment import Deployment

from ..support.governed import POPULATION, population_folder


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _config(path: Path) -> Path:
    lines = [
        "[processor]", 'name = { zh = "示例有限公司", en = "Example Ltd" }',
        'contact = { zh = "dpo@example.com", en = "dpo@example.com" }',
        'credit_code = "91310000EXAMPLE00X"', 'province = { zh = "上海市", en = "Shanghai" }',
        "", "[[sites]]", 'key = "hq.lobby"', 'name = { zh = "大堂", en = "Lobby" }',
        'site_type = "office"', "",
    ]
    for key, modes in (("access.office.entry", '["verify", "identify"]'),
                       ("hr.attendance", '["verify"]')):
        lines += ["[[purposes]]", f'key = "{key}"', 'site = "hq.lobby"',
                  f'description = {{ zh = "{key}（中文）", en = "{key}" }}',
                  'necessity = { zh = "免接触通行", en = "hands-free entry" }',
                  'legal_basis = { zh = "单独同意", en = "separate consent" }',
                  f"modes = {modes}",
                  'alternatives = [{ key = "staff badge", name = { zh = "员工卡", '
                  'en = "staff badge" } }]', "retention_days = 365", "threshold = 0.4",
                  # 0.4 is a dlib distance: these purposes pin the dlib pack
                  'pack = "dlib-resnet-v1"',
                  "activate = true", ""]
        lines.append("[purposes.notice]")
        for item, text in demo_notice().items():
            lines.append(f"{item} = {{ zh = {_toml_string(text['zh'])}, "
                         f"en = {_toml_string(text['en'])} }}")
        lines += ["", "[purposes.assessment]", 'signed_by = "DPO"']
        lines += [f"{k} = {{ zh = {_toml_string(v['zh'])}, en = {_toml_string(v['en'])} }}"
                  for k, v in demo_assessment().items()]
        if "identify" in modes:  # identification needs a population calibration (R21)
            lines += ["", "[purposes.calibration]",
                      f"data = {_toml_string(str(population_folder()))}",
                      f"population = {_toml_string(POPULATION)}", "target_fmr = 0.01"]
        lines.append("")
    path.write_text("\n".join(lines), "utf-8")
    return path


@pytest.fixture
def run(tmp_path: Path, analyzer: FaceAnalyzer) -> Callable[..., Result]:
    db = tmp_path / "cli.db"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args[:2], "--db", str(db), *args[2:]]
                                  if args[0] in ("purpose", "consent", "alternative")
                                  else [args[0], "--db", str(db), *args[1:]],
                                  obj={"analyzer": analyzer}, catch_exceptions=False)

    return invoke


def test_governed_flow_through_the_cli(run: Callable[..., Result], tmp_path: Path,
                                       faces: dict[str, Path]) -> None:
    invoke = run
    init = invoke("init", "--config", str(_config(tmp_path / "deploy.toml")))
    assert init.exit_code == 0, init.output
    assert "registered purpose access.office.entry active" in init.output
    assert "registered calibration 1 for access.office.entry" in init.output
    listed = invoke("purpose", "list")
    assert "access.office.entry\tactive\tidentify,verify\thq.lobby" in listed.output
    card = invoke("purpose", "card", "access.office.entry")
    assert "threshold is the evaluated one: yes" in card.output, card.output
    assert f"on {POPULATION}" in card.output
    warned = invoke("purpose", "card", "hr.attendance")
    assert "warning: purpose hr.attendance: its dlib-resnet-v1 threshold 0.4 was set by " \
           "hand, not measured on the people it serves" in warned.output
    assert "serving east-asian-adults" in warned.output and "caveat: Turned faces" in (
        warned.output)
    subject = invoke("subject", "--ref", "staff-1", "--age-band", "adult").output.strip()
    assert subject.startswith("s_")
    ok = invoke("consent", "record", "--subject", subject, "--purpose",
                "access.office.entry", "--notice-version", "1", "--method", "on_screen")
    assert ok.exit_code == 0, ok.output
    enrolled = invoke("enroll", "--subject", subject, "--purpose",
                      "access.office.entry", str(faces["obama"]))
    assert enrolled.exit_code == 0 and "enrolled" in enrolled.output, enrolled.output
    verified = invoke("verify", "--subject", subject, "--purpose",
                      "access.office.entry", str(faces["obama2"]))
    assert verified.output.startswith("match: distance 0.2"), verified.output
    assert verified.exit_code == 0
    other = invoke("verify", "--subject", subject, "--purpose", "access.office.entry",
                   str(faces["biden"]))
    assert other.output.startswith("no match: distance "), other.output
    assert other.exit_code == 3, "no match has its own exit status"

    refused = invoke("verify", "--subject", subject, "--purpose", "hr.attendance",
                     str(faces["obama2"]))
    assert refused.exit_code == 1
    assert refused.stderr == (f"facegate: consent.missing: subject {subject} has not given "
                              "separate consent for hr.attendance [R2 cn-2025 Art. 6]\n")

    declined = invoke("verify", "--subject", subject, "--purpose",
                      "access.office.entry", "--decline")
    assert declined.output == "route_to_alternative: staff badge\n"
    anonymous = invoke("verify", "--purpose", "access.office.entry", "--decline")
    assert (anonymous.exit_code, anonymous.output) == (0, "route_to_alternative: staff badge\n")
    assert invoke("verify", "--purpose", "access.office.entry",
                  str(faces["obama2"])).exit_code == 2, "an IMAGE needs --subject"
    recorded = invoke("alternative", "record", "--purpose", "access.office.entry",
                      "--method", "staff badge", "--result", "verified")
    assert "staff badge verified" in recorded.output
    found = invoke("identify", "--purpose", "access.office.entry", str(faces["obama2"]))
    assert found.output.startswith(f"candidate {subject}")
    assert "(dlib-resnet-v1, FMR " in found.output

    withdrawn = invoke("consent", "withdraw", "--subject", subject, "--purpose",
                       "access.office.entry")
    assert "1 template(s) deleted" in withdrawn.output
    after = invoke("verify", "--subject", subject, "--purpose", "access.office.entry",
                   str(faces["obama2"]))
    assert after.exit_code == 1 and after.stderr.endswith("[R4 cn-2025 Art. 6; PIPL 15, 47]\n")
    assert invoke("identify", "--purpose", "access.office.entry",
                  str(faces["obama2"])).output.startswith("no_match")
    filing = invoke("filing")
    assert "individuals stored: 0; threshold: 100000" in filing.output


def test_cli_refusals_cite_the_rule(run: Callable[..., Result], tmp_path: Path) -> None:
    invoke = run
    assert invoke("init", "--config", str(_config(tmp_path / "d.toml"))).exit_code == 0
    bad_site = tmp_path / "site.toml"
    bad_site.write_text('[[sites]]\nkey = "x"\nname = "Room 101"\nsite_type = "hotel_room"\n')
    refused = invoke("register", str(bad_site))
    assert refused.exit_code == 1
    assert refused.stderr.startswith("facegate: site.private_space: ")
    assert refused.stderr.endswith("[R12 cn-2025 Art. 13]\n")
    purpose = tmp_path / "p.toml"
    purpose.write_text('key = "access.gym"\nsite = "hq.lobby"\ndescription = "gym"\n'
                       'necessity = "n"\nlegal_basis = "consent"\nmodes = ["verify"]\n'
                       'alternatives = ["card"]\nretention_days = 30\n')
    assert invoke("purpose", "add", str(purpose)).exit_code == 0
    activate = invoke("purpose", "activate", "access.gym")
    assert activate.exit_code == 1
    assert activate.stderr.startswith("facegate: notice.incomplete: ")
    assert "[R6 cn-2025 Art. 5]" in activate.stderr
    unknown = invoke("enroll", "--subject", "s_x", "--purpose", "nope", "x.jpg")
    assert unknown.stderr == ("facegate: purpose.not_registered: purpose 'nope' is not "
                              "registered [R1 cn-2025 Art. 4]\n")


def test_init_with_a_bad_config_leaves_no_half_registered_store(
        run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[processor]\nname = "Example Ltd"\ncontact = "dpo@example.com"\n'
                   'credit_code = "91310000EXAMPLE00X"\n\n'
                   '[[sites]]\nkey = "hq.lobby"\nname = "Lobby"\nsite_type = "office"\n\n'
                   '[[sites]]\nkey = "x"\nname = "Room 101"\nsite_type = "hotel_room"\n',
                   "utf-8")
    refused = run("init", "--config", str(bad))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"facegate: site.private_space: {bad}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"], "a new store is removed"

    assert run("init").exit_code == 0
    with Deployment.open(tmp_path / "cli.db") as d:
        before = d.verify_audit().entries
    refused = run("init", "--config", str(bad))
    assert refused.exit_code == 1
    assert str(bad) in refused.stderr
    with Deployment.open(tmp_path / "cli.db") as d:
        assert d.verify_audit().entries == before, "nothing registered in an existing store"
