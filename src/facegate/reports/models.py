"""The document model: what a report says, before it is HTML or PDF.

A builder (:mod:`facegate.reports.builders`) turns the deployment's records
into a :class:`ReportModel`: a title, the facts of the header and footer, and
sections of plain blocks (paragraphs, key-value lists, tables, figures). One
template renders any model (:mod:`facegate.reports.render`). The model's
:func:`content_hash` is printed in the document's footer and recorded in the
audit log with the audit position the document describes, so an auditor can
tell which state of the system a document shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

__all__ = [
    "Block",
    "Document",
    "Figure",
    "Format",
    "KeyValues",
    "Lang",
    "Paragraph",
    "ReportKind",
    "ReportModel",
    "Section",
    "Table",
    "content_hash",
]


class ReportKind(StrEnum):
    """The documents facegate produces."""

    NOTICE = "notice"
    PIA = "pia"
    FILING = "filing"
    ACCESS = "access"
    SUMMARY = "summary"
    RETENTION_POLICY = "retention-policy"


class Lang(StrEnum):
    """The language of a document."""

    ZH = "zh"
    EN = "en"


class Format(StrEnum):
    """The file format of a document."""

    HTML = "html"
    PDF = "pdf"


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of text; ``note`` sets it in the smaller, muted style, ``statement`` as a
    quoted statement (the signed assessment's words)."""

    text: str
    note: bool = False
    statement: bool = False
    type: Literal["paragraph"] = "paragraph"


@dataclass(frozen=True, slots=True)
class KeyValues:
    """A two-column list of labelled facts."""

    rows: tuple[tuple[str, str], ...]
    type: Literal["keyvalues"] = "keyvalues"


@dataclass(frozen=True, slots=True)
class Table:
    """A table; ``numeric`` marks the columns set right-aligned (numbers), ``nowrap`` the
    short columns never broken across lines; ``empty`` is said when there are no rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()
    empty: str = ""
    nowrap: tuple[int, ...] = ()
    type: Literal["table"] = "table"


@dataclass(frozen=True, slots=True)
class Figure:
    """An inline SVG drawing with its caption."""

    svg: str
    caption: str
    type: Literal["figure"] = "figure"


Block = Paragraph | KeyValues | Table | Figure


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered section of a document."""

    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class ReportModel:
    """One document, in one language, as plain data.

    Args:
        kind: which document.
        lang: its language.
        title: the document title.
        subtitle: what it is about (a purpose, a subject, a period), or empty.
        processor: the processor's name, printed in the page header.
        profile: the jurisdiction profile's title.
        generated_at: when the document was generated (the deployment's clock).
        audit_seq: the last audit entry the document's state includes.
        sections: the body.
        references: the provisions the document answers, for the title block.
    """

    kind: ReportKind
    lang: Lang
    title: str
    subtitle: str
    processor: str
    profile: str
    generated_at: datetime
    audit_seq: int
    sections: tuple[Section, ...]
    references: str = ""
    meta: tuple[tuple[str, str], ...] = field(default=())

    def canonical(self) -> bytes:
        """The model as canonical JSON bytes (sorted keys, UTF-8)."""
        data = asdict(self)
        data["generated_at"] = self.generated_at.isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")


def content_hash(model: ReportModel) -> str:
    """The SHA-256 of the model's canonical JSON: what the document says, in hex."""
    return hashlib.sha256(model.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class Document:
    """A rendered document, as a REST service or the CLI hands it out.

    Args:
        content: the file's bytes.
        media_type: ``text/html; charset=utf-8`` or ``application/pdf``.
        sha256: the SHA-256 of ``content``, hex.
        content_hash: the SHA-256 of the document model, printed in its footer.
        audit_seq: the audit position the document describes (the last entry it includes).
        recorded_seq: the audit entry (``report-generated``) recording its generation.
        filename: a suggested file name.
        kind: which document; ``lang`` its language.
    """

    content: bytes
    media_type: str
    sha256: str
    content_hash: str
    audit_seq: int
    recorded_seq: int
    filename: str
    kind: ReportKind
    lang: Lang
