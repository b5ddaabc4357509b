"""What every builder shares: the model's frame, the processor's facts, small table helpers."""

from __future__ import annotations

from collections.abc import Iterable

from ..texts import Text
from .facts import Header
from .labels import LABELS, text
from .models import Lang, ReportKind, ReportModel, Section

__all__ = ["model", "processor_rows", "profile_title", "say", "yes_no"]


def say(words: Text | None, lang: Lang) -> str:
    """A record's words in ``lang``. A language the record lacks reads as "not written in
    this language", never as another language's words (a purpose's own documents are
    refused before that, ``notice.incomplete``)."""
    if words is None:
        return ""
    found = words.get(lang.value, "")
    return found or (text(lang, "lang.missing") if words else "")


def model(header: Header, kind: ReportKind, lang: Lang, sections: Iterable[Section], *,
          subtitle: str = "") -> ReportModel:
    """A document of ``kind`` from ``header``'s processor, at ``header``'s audit position."""
    return ReportModel(
        kind=kind, lang=lang, title=text(lang, f"title.{kind.value}"), subtitle=subtitle,
        processor=say(header.processor.name, lang), profile=profile_title(header, lang),
        generated_at=header.generated_at, audit_seq=header.audit_seq,
        sections=tuple(sections), references=text(lang, f"ref.{kind.value}"))


def profile_title(header: Header, lang: Lang) -> str:
    """The jurisdiction profile's title, in Chinese where the profile is Chinese law."""
    key = f"profile.{header.profile.key}"
    if lang is Lang.ZH and key in LABELS:
        return LABELS[key][0]
    return header.profile.title


def processor_rows(header: Header, lang: Lang) -> tuple[tuple[str, str], ...]:
    """The processor's name, contact, credit code, location and declared security measures."""
    p = header.processor
    return ((text(lang, "processor.name"), say(p.name, lang)),
            (text(lang, "processor.contact"), say(p.contact, lang)),
            (text(lang, "processor.credit_code"), p.credit_code),
            (text(lang, "processor.province"), say(p.province, lang) or text(lang, "none")),
            (text(lang, "processor.security"),
             say(p.security_measures, lang) or text(lang, "none")))


def yes_no(lang: Lang, value: bool) -> str:
    return text(lang, "yes" if value else "no")
