"""A subject's short code (the kiosk receipt's) is a second subject key: it works wherever
the token works (see, withdraw, erase), typed in any case, with or without separators, and
nothing but a subject key is ever a code."""

from __future__ import annotations

import pytest

from facegate.access.keys import (
    CODE_ALPHABET,
    CODE_LENGTH,
    canonical_secret,
    grouped_code,
    hash_secret,
    new_code,
)
from facegate.errors import InvalidArgument

from .conftest import Api

P = "access.office.entry"


def test_a_code_has_no_look_alikes_and_99_bits() -> None:
    assert not set(CODE_ALPHABET) & set("0O1lIL")
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 31
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    code = next(iter(codes))
    assert grouped_code(code).count("-") == CODE_LENGTH // 4 - 1
    for typed in (grouped_code(code).lower(), f" {code[:10]} {code[10:]} ",
                  grouped_code(code).replace("-", "—")):
        assert canonical_secret(typed) == code
    # A token is case-sensitive and kept as given; anything else is not turned into a code.
    assert canonical_secret("fg_AbC-d") == "fg_AbC-d"
    assert canonical_secret(code[:-1] + "0") == code[:-1] + "0"


def test_the_code_works_wherever_the_token_works(api: Api) -> None:
    d = api.deployment
    subject = d.register_subject(age_band="adult").id
    _, token, code = d.consent_with_receipt(subject=subject, purpose=P, notice_version=1,
                                            method="on_screen")
    assert token.secret.startswith("fg_") and len(code.secret) == CODE_LENGTH
    assert code.key.subject_id == token.key.subject_id == subject
    stored = {k.id for k in d.api_keys() if k.subject_id == subject}
    assert stored == {token.key.id, code.key.id}
    typed = {"X-API-Key": grouped_code(code.secret).lower()}
    r = api.client.get("/v1/me", headers=typed)
    assert r.status_code == 200 and r.json()["report"]["subject_id"] == subject
    r = api.client.post("/v1/me/withdrawals", json={"purpose": P},
                        headers={"Authorization": f"Bearer {code.secret}"})
    assert r.status_code == 200
    wrong = ("2" if code.secret[0] != "2" else "3") + code.secret[1:]
    assert api.client.get("/v1/me", headers={"X-API-Key": wrong}).status_code == 401
    r = api.client.delete("/v1/me", headers=typed)
    assert r.status_code == 200 and r.json()["erasure"]["subject_id"] == subject
    issued = [e for e in d.audit_events() if e.name == "api-key-issued"
              and e.subject_id == subject]
    assert [e.detail.get("form") for e in issued] == [None, "code"]
    assert all(code.secret not in str(e.detail) for e in d.audit_events())
    # The store keeps the code's hash only.
    rows = d._conn.execute("SELECT secret_hash FROM api_keys WHERE id = ?",
                           (code.key.id,)).fetchall()
    assert [r[0] for r in rows] == [hash_secret(code.secret)]


def test_only_a_subject_key_is_a_code(api: Api) -> None:
    with pytest.raises(InvalidArgument):
        api.deployment.issue_api_key(role="operator", label="desk", code=True)
