"""Words a person reads, per language.

Every text a subject or a regulator reads (a purpose's name and description, its
legal basis and alternatives, a site's name, the processor's name, contact,
province and security measures) is a :class:`Text`: the words in each language,
``{"zh": "员工门禁", "en": "staff door access"}``. The jurisdiction profile names
the languages a deployment must have (``JurisdictionProfile.languages``: Chinese
and English under every shipped profile), and a purpose is not activated while a
required language is missing (``notice.incomplete``, naming the field and the
language). Nothing here fills a missing language with another language's words.

A single string is accepted where a mapping is expected, for records written
before texts were kept per language and for callers that have one language only:
it is filed under the language its script shows (:func:`detect_language`:
Chinese when it holds a Han character, English otherwise), and the other
language is then reported missing where it is required.

Durations read per locale here too (:func:`days`: ``365 天``, ``365 days``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Final

from .errors import InvalidArgument

__all__ = ["LANGUAGES", "MAX_TEXT", "Text", "TextLike", "days", "detect_language"]

#: The languages facegate writes its own words in (documents, kiosk, statements).
LANGUAGES: Final = ("zh", "en")

#: The longest text of one language.
MAX_TEXT: Final = 4000

#: A language code: ``zh``, ``en``, ``zh-Hant``...
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

#: Han characters (CJK Unified Ideographs, Extension A, compatibility ideographs):
#: the same ranges the store's migration uses to file older single-language text.
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")

#: Characters no record's words may hold: controls (a line break or tab excepted) and
#: the marks that change the direction of the text around them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

TextLike = str | Mapping[str, str]


def detect_language(words: str) -> str:
    """``zh`` when ``words`` holds a Han character, else ``en``."""
    return "zh" if _HAN.search(words) else "en"


class Text(Mapping[str, str]):
    """The words of one record field, by language code; immutable and hashable.

    ``Text({"zh": "员工门禁", "en": "staff door access"})``; ``Text.of(value,
    field=...)`` also takes a single string (filed under its script's language),
    ``None`` or another :class:`Text`. Blank languages are dropped, so
    ``missing`` reports them. ``str(text)`` is not defined on purpose: a caller
    names the language it shows (``text["zh"]``, ``text.get("en", "")``).
    """

    __slots__ = ("_words",)

    _words: tuple[tuple[str, str], ...]

    def __init__(self, words: Mapping[str, str] | None = None, *, field: str = "text") -> None:
        found: dict[str, str] = {}
        for lang, value in (words or {}).items():
            if not isinstance(lang, str) or not _LANG.match(lang):
                raise InvalidArgument(f"{field}: {lang!r} is not a language code (zh, en...)",
                                      details={"field": field, "language": str(lang)[:20]})
            if not isinstance(value, str):
                raise InvalidArgument(f"{field}: the {lang} text must be a string",
                                      details={"field": field, "language": lang})
            cleaned = value.strip()
            if len(cleaned) > MAX_TEXT:
                raise InvalidArgument(f"{field}: the {lang} text is longer than {MAX_TEXT} "
                                      "characters", details={"field": field, "language": lang})
            if _FORBIDDEN.search(cleaned):
                raise InvalidArgument(f"{field}: the {lang} text holds a control or "
                                      "direction-changing character",
                                      details={"field": field, "language": lang})
            if cleaned:
                found[lang] = cleaned
        object.__setattr__(self, "_words", tuple(sorted(found.items())))

    @classmethod
    def of(cls, value: object, *, field: str = "text") -> Text:
        """``value`` as a :class:`Text`: a mapping of language to words, a single string
        (filed under :func:`detect_language`), ``None`` (no words) or a ``Text``.

        Raises:
            InvalidArgument: anything else, a bad language code, a value that is not a
                string, a text too long or holding control characters.
        """
        if isinstance(value, Text):
            return value
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls({detect_language(value): value} if value.strip() else {}, field=field)
        if isinstance(value, Mapping):
            return cls(value, field=field)
        raise InvalidArgument(f"{field} must be text per language, like "
                              '{"zh": "...", "en": "..."}', details={"field": field})

    @classmethod
    def from_json(cls, raw: str) -> Text:
        """A text stored as a JSON object of language to words."""
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError(f"not text per language: {raw[:60]!r}")
        return cls(value)

    def to_json(self) -> str:
        """The JSON object stored for this text (languages in order, UTF-8 as is)."""
        return json.dumps(dict(self._words), ensure_ascii=False, sort_keys=True)

    def missing(self, languages: tuple[str, ...] | list[str]) -> list[str]:
        """The languages of ``languages`` this text has no words in."""
        return [lang for lang in languages if lang not in self]

    def canonical(self) -> str | dict[str, str]:
        """What a hash covers: the words themselves when there is one language (as records
        written before texts were kept per language were hashed), else the mapping."""
        if len(self._words) == 1:
            return self._words[0][1]
        return dict(self._words)

    def __getitem__(self, lang: str) -> str:
        for code, words in self._words:
            if code == lang:
                return words
        raise KeyError(lang)

    def __iter__(self) -> Iterator[str]:
        return (code for code, _ in self._words)

    def __len__(self) -> int:
        return len(self._words)

    def __hash__(self) -> int:
        return hash(self._words)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return self._words == other._words
        if isinstance(other, Mapping):
            return dict(self._words) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Text({dict(self._words)!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Text is immutable")


def days(n: int, lang: str) -> str:
    """A number of days in ``lang``: ``365 天``, ``365 days`` (``1 day``)."""
    count = f"{n:,}"
    if lang == "zh":
        return f"{count} 天"
    return f"{count} day" if n == 1 else f"{count} days"
