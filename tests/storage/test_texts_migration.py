"""A store written before texts were kept per language migrates (0010): each text becomes
the language it was written in, nothing is translated, its assessment stays current, and
its purpose is not activated again until the missing language is written."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from facegate.demo.governed import demo_assessment
from facegate.deployment import Deployment
from facegate.errors import NoticeIncomplete

from ..support.governed import add_purpose
from ..support.words import both

P = "access.door"


def _old_fingerprint(description: str, necessity: str, legal_basis: str) -> str:
    """An assessment's method fingerprint as the release before 0011 computed it."""
    facts = {"description": description, "necessity": necessity, "legal_basis": legal_basis,
             "modes": ["verify"], "storage_mode": "device", "liveness": False,
             "site": "hq.lobby", "public_security": False}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def test_a_store_from_before_texts_per_language_migrates(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with Deployment.open(db, create=True) as d:
        d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                             credit_code="91310000EXAMPLE00X", province=both("Shanghai"))
        d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
        add_purpose(d, P, modes=("verify",))
    # the store as the release before 0011 left it: one string per text, alternatives as
    # strings, assessments as one statement per item, no purpose name
    old = {item: words["en"] for item, words in demo_assessment().items()}
    conn = sqlite3.connect(db)
    conn.execute("UPDATE processors SET name = 'Example Ltd', contact = 'dpo@example.com', "
                 "province = '上海市', security_measures = ''")
    conn.execute("UPDATE sites SET name = '大堂'")
    conn.execute("UPDATE purposes SET description = '员工门禁', necessity = 'hands-free entry', "
                 "legal_basis = 'separate consent', alternatives = ?",
                 (json.dumps(["staff badge with guard check"]),))
    conn.execute("ALTER TABLE purposes DROP COLUMN name")
    conn.execute("UPDATE assessments SET content = ?, method_fingerprint = ?",
                 (json.dumps(old), _old_fingerprint("员工门禁", "hands-free entry",
                                                    "separate consent")))
    conn.execute("DELETE FROM schema_migrations WHERE version = 11")
    conn.commit()
    conn.close()

    with Deployment.open(db) as d:
        processor = d.processor()
        assert processor is not None
        # each text under the language its script shows; nothing made up for the other
        assert dict(processor.name) == {"en": "Example Ltd"}
        assert dict(processor.contact) == {"en": "dpo@example.com"}
        assert dict(processor.province) == {"zh": "上海市"}
        assert dict(processor.security_measures) == {}
        assert dict(d.sites()[0].name) == {"zh": "大堂"}
        purpose = d.purpose(P)
        assert dict(purpose.description) == {"zh": "员工门禁"}
        assert purpose.name == purpose.description  # a short name: at first its description
        assert dict(purpose.necessity) == {"en": "hands-free entry"}
        assert [(a.key, dict(a.name)) for a in purpose.alternatives] == [
            ("staff badge with guard check", {"en": "staff badge with guard check"})]
        (assessment,) = d.assessments(P)
        assert dict(assessment.content["rights_impact"]) == {"en": old["rights_impact"]}
        # what was assessed has not changed: the signed assessment still describes it
        assert assessment.is_current_for(purpose)
        assert purpose.status.value == "active"  # running purposes keep running
        # ...but going live again needs every text in every language the profile names
        d.suspend_purpose(P)
        with pytest.raises(NoticeIncomplete) as refused:
            d.activate_purpose(P)
        fields = refused.value.details["fields"]
        for missing in ("purpose name/en", "purpose description/en", "purpose necessity/zh",
                        "alternative staff badge with guard check/zh", "site hq.lobby name/en",
                        "processor name/zh", "processor contact/zh", "processor province/en"):
            assert missing in fields, missing
