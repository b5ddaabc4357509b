"""R6, R14: a notice or an impact assessment cannot say what the purpose's records
contradict, nor tell a visitor to run a command: refused when the notice is published, the
assessment signed, the purpose activated, and each time the document is generated."""

from __future__ import annotations

import pytest

from facegate.demo.governed import demo_assessment, demo_notice
from facegate.deployment import Deployment
from facegate.errors import DocumentInconsistent

from ..support.asserts import assert_refused

ACCESS = "access.office.entry"  # verify and identify, device storage, 365 days


def _notice_with(item: str, zh: str, en: str) -> dict[str, dict[str, str]]:
    return {**demo_notice(), item: {"zh": zh, "en": en}}


@pytest.mark.parametrize(("item", "zh", "en", "finding"), [
    ("other_legal_items", "本目的仅进行一比一比对。", "Faces are compared 1:1 only.",
     "only 1:1 verification"),
    ("retention_period", "模板保存 30 天。", "Templates are kept for 30 days.",
     "retention of 30 days"),
    ("how_to_exercise_rights", "可运行 facegate consent withdraw 撤回。",
     "Run `facegate consent withdraw` to withdraw.", "run a command"),
    ("other_legal_items", "模板集中存储于服务器。", "Templates are stored on our central server.",
     "stored centrally"),
    ("purpose_and_method", "每次命中均经人工复核。", "Every hit is reviewed by a person.",
     "reviewed by a person"),
])
def test_r6_a_notice_that_contradicts_the_records_is_refused(
        books: Deployment, item: str, zh: str, en: str, finding: str) -> None:
    d = books
    before = d.notice(ACCESS)
    assert before is not None
    with pytest.raises(DocumentInconsistent) as refused:
        d.publish_notice(purpose=ACCESS, content=_notice_with(item, zh, en))
    assert_refused(refused.value, "document.inconsistent", "R6")
    fields = refused.value.details["fields"]
    assert any(f"{item} (en, written)" in f and finding in f for f in fields), fields
    assert any(f"{item} (zh, written)" in f for f in fields), fields
    assert d.notice(ACCESS) == before  # nothing was published
    assert d.audit_events("refusal")[-1].outcome == "document.inconsistent"


def test_r14_an_assessment_that_contradicts_the_records_is_refused(books: Deployment) -> None:
    d = books
    content = demo_assessment()
    content["protection_measures"] = {"zh": "模板保存于云端服务器，只做一比一比对。",
                                      "en": "Templates are kept on a cloud server, 1:1 only."}
    with pytest.raises(DocumentInconsistent) as refused:
        d.sign_assessment(purpose=ACCESS, content=content, signed_by="DPO")
    assert_refused(refused.value, "document.inconsistent", "R14")
    fields = " ".join(refused.value.details["fields"])
    assert "stored centrally" in fields and "only 1:1 verification" in fields


def test_r6_a_notice_the_records_move_away_from_is_refused_at_generation_and_activation(
        books: Deployment) -> None:
    d = books
    # true when published: templates are kept 365 days
    d.publish_notice(purpose=ACCESS, content=_notice_with(
        "other_legal_items", "人脸模板保存 365 天后删除。",
        "Face templates are deleted after 365 days."))
    assert d.report("notice", purpose=ACCESS, lang="zh", fmt="html").content
    d.update_purpose(ACCESS, retention_days=90)  # the records change; the words do not
    for lang in ("zh", "en"):
        with pytest.raises(DocumentInconsistent) as refused:
            d.report("notice", purpose=ACCESS, lang=lang, fmt="html")
        assert "retention of 365 days" in " ".join(refused.value.details["fields"])
    refusal = d.audit_events("refusal")[-1]
    assert refusal.outcome == "document.inconsistent" and refusal.purpose_key == ACCESS
    d.suspend_purpose(ACCESS)
    with pytest.raises(DocumentInconsistent):
        d.activate_purpose(ACCESS)
    # the generated paragraphs follow the records: the notice now says 90 days
    said = d.notice_text(ACCESS)
    assert "90 天" in said["zh"]["retention_period"][0]
    assert "90 days" in said["en"]["retention_period"][0]
