"""``examples/deployment.toml``, as shipped: ``facegate init --config`` sets up a live
identification purpose whose every text is in Chinese and English, calibrated on the
people it serves, with two reviewers per hit, and its notice says so in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.analysis import FaceAnalyzer
from facegate.cli import cli
from facegate.deployment import Deployment

from ..conftest import REPO

EXAMPLE = REPO / "examples" / "deployment.toml"


def test_the_shipped_example_config_sets_up_a_bilingual_live_purpose(
        shared: Path, tmp_path: Path, analyzer: FaceAnalyzer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the layout the example names: the shared data beside the working directory
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(shared)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    db = tmp_path / "work" / "site.db"
    init = CliRunner().invoke(cli, ["init", "--db", str(db), "--config", str(EXAMPLE)],
                              obj={"analyzer": analyzer}, catch_exceptions=False)
    assert init.exit_code == 0, init.output
    assert "registered review for access.office.entry: 2 distinct confirmations" in init.output
    assert init.output.rstrip().endswith("registered purpose access.office.entry active")
    with Deployment.open(db, analyzer=analyzer) as d:
        purpose = d.purpose("access.office.entry")
        assert purpose.status == "active"
        for words in (purpose.name, purpose.description, purpose.necessity,
                      purpose.legal_basis, purpose.alternatives[0].name):
            assert set(words) == {"zh", "en"}, words
        settings = d.review_settings("access.office.entry")
        assert settings is not None and settings.reviewers == 2
        for lang, said in (("zh", "须经 2 名不同的授权复核人员"),
                           ("en", "confirmed by 2 different authorised reviewers")):
            notice = d.report("notice", purpose="access.office.entry", lang=lang, fmt="html")
            assert said in notice.content.decode("utf-8")
