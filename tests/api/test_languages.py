"""Error messages in the language the request prefers: the same JSON shape, code, rule
and details; the message in Chinese when Accept-Language prefers zh (q-values
honoured), in English otherwise; Content-Language names it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api

P = "access.office.entry"


def _get(api: Api, path: str, accept: str | None, role: str | None = "operator") -> Any:
    headers = api.headers(role) if role else {}
    if accept is not None:
        headers["Accept-Language"] = accept
    return api.client.get(path, headers=headers)


@pytest.mark.parametrize(("accept", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en-US,en;q=0.9", "en"),
    ("en;q=0.4, zh;q=0.7", "zh"),
    ("zh;q=0.3, en", "en"),
    ("fr-FR,de;q=0.9", "en"),
    (None, "en"),
])
def test_a_refusal_speaks_the_preferred_language(api: Api, accept: str | None,
                                                 lang: str) -> None:
    r = _get(api, "/v1/audit/verify", accept)
    assert r.status_code == 403
    assert r.headers["content-language"] == lang
    body = r.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "rule", "request_id", "details"}
    assert error["code"] == "auth.forbidden"
    english = _get(api, "/v1/audit/verify", "en").json()["error"]
    assert error["details"] == english["details"] and error["rule"] == english["rule"]
    if lang == "zh":
        assert error["message"] == "您的角色或权限范围不允许此操作。"
    else:
        assert error["message"] == english["message"]
        assert error["message"] != "您的角色或权限范围不允许此操作。"


def test_framework_errors_and_policy_refusals_are_translated(api: Api) -> None:
    r = _get(api, "/v1/no-such-thing", "zh", role=None)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "request.not_found")
    assert r.json()["error"]["message"] == "页面或接口不存在。"
    assert r.headers["content-language"] == "zh"
    r = api.client.post("/v1/subjects", headers={**api.headers("operator"),
                                                 "Accept-Language": "zh"}, content=b"{")
    assert r.json()["error"]["code"] == "request.invalid"
    assert r.json()["error"]["message"] == "请求无效。"
    r = _get(api, "/v1/subjects/nobody-here/access-report", "zh", role="admin")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "未找到该个人信息主体。"


def test_an_unknown_key_is_refused_in_chinese(api: Api) -> None:
    r = api.client.get("/v1/purposes", headers={"X-API-Key": "fg_nope",
                                                "Accept-Language": "zh-TW"})
    assert r.status_code == 401
    assert r.json()["error"] == {**r.json()["error"], "code": "auth.invalid",
                                 "message": "密钥无效或已被吊销。"}
