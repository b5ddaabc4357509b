"""The words people read, per language: gettext catalogs kept as ``.po`` files.

English is the source language: a word is written in English where it is used, marked
with ``_()`` in a template or :func:`N_` in Python, and translated in
``locale/<lang>/LC_MESSAGES/messages.po``. The catalogs are read at run time with
Babel (no compiled ``.mo`` file is kept), once per process. :func:`negotiate` picks a
language from an ``Accept-Language`` header. See ``docs/web.md`` for the workflow.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib.resources import files
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["DEFAULT", "LANGUAGES", "N_", "negotiate", "translate", "translations"]

#: The languages with a catalog (English, the source, needs none).
LANGUAGES: Final = ("zh", "en")
#: The language when a request names none we have.
DEFAULT: Final = "en"


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; it is translated where it is
    shown (``_(label)`` in a template, :func:`translate` in Python)."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (null translations for English or a language without one)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return gettext.NullTranslations()
    source = files("facegate.locale") / lang / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as f:
        catalog = read_po(f, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(message: str, lang: str, **values: object) -> str:
    """``message`` in ``lang``, formatted with ``values`` (``%(name)s`` placeholders)."""
    said = translations(lang).gettext(message)
    return said % values if values else said


def negotiate(header: str | None, default: str = DEFAULT) -> str:
    """The language of ours an ``Accept-Language`` header prefers most (q-values
    honoured, ``q=0`` refuses); ``default`` when it names none of ours."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((header or "")[:1000].split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0.0 < q <= 1.0:
            continue
        primary = tag.strip().lower().split("-")[0]
        lang = default if primary == "*" else primary
        if lang not in LANGUAGES:
            continue
        # Highest q first; among equals, the header's own order.
        if best is None or (q, -position) > (best[0], best[1]):
            best = (q, -position, lang)
    return best[2] if best else default
