"""The catalogs: every word marked for translation in the templates and the Python code
has a Chinese translation with the same placeholders, every error code has a message
in Chinese, and a request's language is negotiated from its Accept-Language header."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from facegate.errors import Error, NoticeIncomplete, RateLimited, all_error_classes
from facegate.locale import negotiate, translate, translations
from facegate.locale.errors import ERROR_MESSAGES, error_message

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _method_map() -> list[tuple[str, str]]:
    """The patterns of babel.cfg, relative to the repository root."""
    sections = re.findall(r"^\[(\w+):\s*(\S+)\]", (ROOT / "babel.cfg").read_text(), re.M)
    return [(pattern, method) for method, pattern in sections]


def _extracted() -> set[str | tuple[str, ...]]:
    """Every msgid `pybabel extract -F babel.cfg` finds in the source."""
    options = {"src/facegate/web/templates/**.html": {"trim_blocks": "True",
                                                      "lstrip_blocks": "True"}}
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=_method_map(), options_map=options):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.fixture(scope="module")
def catalog() -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    source = files("facegate.locale") / "zh" / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as f:
        po = read_po(f, locale="zh")
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries are not shown"
    return {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in po if m.id}


def test_every_marked_word_has_a_chinese_translation(
        catalog: dict[str | tuple[str, ...], str | tuple[str, ...]]) -> None:
    extracted = _extracted()
    assert len(extracted) > 200  # the extraction found the templates and the code
    untranslated = [m for m in extracted
                    if not (catalog.get(m) and all(catalog[m]))]
    assert not untranslated, f"no zh translation in messages.po: {untranslated}"


def test_translations_keep_every_placeholder(
        catalog: dict[str | tuple[str, ...], str | tuple[str, ...]]) -> None:
    for msgid, msgstr in catalog.items():
        source = msgid if isinstance(msgid, str) else msgid[-1]
        for said in (msgstr,) if isinstance(msgstr, str) else msgstr:
            assert sorted(PLACEHOLDER.findall(said)) == sorted(PLACEHOLDER.findall(source)), \
                (msgid, said)
            assert CJK.search(said), f"{msgid!r} is not translated into Chinese: {said!r}"


def test_every_error_code_has_a_chinese_message() -> None:
    codes = {cls.code for cls in all_error_classes()}
    assert codes - set(ERROR_MESSAGES) == set(), "codes without a message template"
    assert set(ERROR_MESSAGES) - codes == set(), "templates of codes that do not exist"
    zh = translations("zh")
    for code, templates in ERROR_MESSAGES.items():
        # the last template needs no details, so every error has a message
        assert not PLACEHOLDER.search(templates[-1]), code
        for template in templates:
            assert zh.gettext(template) != template, f"{code}: {template!r} untranslated"


def test_an_error_message_is_its_english_message_or_its_codes_template() -> None:
    exc = NoticeIncomplete("purpose description is missing in zh",
                           details={"fields": ["purpose description/zh"], "rule": "R6"})
    assert error_message(exc, "en") == "purpose description is missing in zh"
    assert error_message(exc, "zh") == "缺少必需语言的文本：purpose description/zh。"
    # without the details a template names, the code's general message
    assert error_message(RateLimited("slow down"), "zh") == "请求过于频繁，请稍后重试。"
    assert error_message(RateLimited("x", details={"retry_after": 7}), "zh") == \
        "请求过于频繁，请 7 秒后重试。"
    assert error_message(Error("boom"), "zh") == "内部错误；请求编号已记入服务日志。"


def test_translate_formats_after_translating() -> None:
    assert translate("Refused by rule %(rule)s.", "zh", rule="R2") == "已被规则 R2 拒绝。"
    assert translate("Refused by rule %(rule)s.", "en", rule="R2") == "Refused by rule R2."
    assert translate("Overview", "fr") == "Overview"


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("zh-Hans", "zh"),
    ("en-US,en;q=0.9,zh;q=0.8", "en"),
    ("en;q=0.5, zh;q=0.6", "zh"),
    ("fr-FR, zh;q=0.1", "zh"),
    ("fr-FR, de", "en"),
    ("zh;q=0, en;q=0.1", "en"),
    ("zh;q=bogus", "en"),
    ("*", "en"),
    ("", "en"),
    (None, "en"),
    ("zh;q=0.8, en;q=0.8", "zh"),  # equal preference: the header's order
])
def test_negotiate_honours_q_values(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang
