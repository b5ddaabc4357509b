"""SQL for subjects. Keyword-only; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from ..clock import parse_time
from ..storage.connection import Connection
from .models import AgeBand, Subject

__all__ = ["delete_subject", "get_subject", "get_subject_by_ref", "insert_subjects",
           "list_subjects", "page_subjects", "subject_holdings"]

_COLUMNS = "id, external_ref, birth_date, age_band, registered_at"


def _subject(r: tuple[object, ...]) -> Subject:
    return Subject(id=str(r[0]), external_ref=None if r[1] is None else str(r[1]),
                   birth_date=None if r[2] is None else date.fromisoformat(str(r[2])),
                   age_band=None if r[3] is None else AgeBand(str(r[3])),
                   registered_at=parse_time(str(r[4])))


def insert_subjects(conn: Connection, *, subjects: Iterable[Subject]) -> None:
    """Insert subjects in one statement batch (fast for bulk loads)."""
    conn.executemany(
        f"INSERT INTO subjects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        ((s.id, s.external_ref, s.birth_date.isoformat() if s.birth_date else None,
          s.age_band.value if s.age_band else None, s.registered_at.isoformat())
         for s in subjects))


def get_subject(conn: Connection, *, id: str) -> Subject | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM subjects WHERE id = ?", (id,)).fetchone()
    return None if row is None else _subject(row)


def get_subject_by_ref(conn: Connection, *, external_ref: str) -> Subject | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM subjects WHERE external_ref = ?",
                       (external_ref,)).fetchone()
    return None if row is None else _subject(row)


def list_subjects(conn: Connection, *, limit: int = 200) -> list[Subject]:
    """The most recently registered subjects, newest first."""
    return [_subject(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM subjects ORDER BY registered_at DESC, id LIMIT ?", (limit,))]


def page_subjects(conn: Connection, *, after: tuple[str, str] | None = None,
                  since: datetime | None = None, external_ref: str | None = None,
                  limit: int = 100) -> list[Subject]:
    """Subjects oldest first by (registered time, id): those after ``after``, registered at
    or after ``since``, with ``external_ref`` when given; at most ``limit``."""
    sql = f"SELECT {_COLUMNS} FROM subjects WHERE 1 = 1"
    args: list[object] = []
    if after is not None:
        sql += " AND (registered_at > ? OR (registered_at = ? AND id > ?))"
        args += [after[0], after[0], after[1]]
    if since is not None:
        sql += " AND registered_at >= ?"
        args.append(since.astimezone(UTC).isoformat())
    if external_ref is not None:
        sql += " AND external_ref = ?"
        args.append(external_ref)
    sql += " ORDER BY registered_at, id LIMIT ?"
    args.append(limit)
    return [_subject(r) for r in conn.execute(sql, args)]


def delete_subject(conn: Connection, *, id: str) -> int:
    """Delete the subject row (its dependants go first; see ``Deployment.erase_subject``)."""
    return conn.execute("DELETE FROM subjects WHERE id = ?", (id,)).rowcount


def subject_holdings(conn: Connection, *, id: str) -> set[tuple[str, str]]:
    """Every ``(purpose, site)`` a subject appears under in the records: consents,
    templates, retained images, review cases and audit entries about the subject."""
    rows = conn.execute(
        "SELECT p.key, p.site_key FROM purposes p WHERE p.key IN ("
        "SELECT purpose_key FROM consent_events WHERE subject_id = ? UNION "
        "SELECT purpose_key FROM templates WHERE subject_id = ? UNION "
        "SELECT purpose_key FROM retained_images WHERE subject_id = ? UNION "
        "SELECT purpose_key FROM review_cases WHERE subject_id = ? UNION "
        "SELECT purpose_key FROM audit_events WHERE subject_id = ? "
        "AND purpose_key IS NOT NULL)", (id, id, id, id, id))
    return {(str(r[0]), str(r[1])) for r in rows}
