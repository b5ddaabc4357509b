"""SQL for purposes, notices and assessments. Keyword-only; the caller owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from ..clock import parse_time
from ..errors import StorageError
from ..storage.connection import Connection
from ..texts import Text
from .models import (
    Alternative,
    Assessment,
    Mode,
    Notice,
    Purpose,
    PurposeStatus,
    StorageMode,
    frozen_content,
)

__all__ = [
    "delete_assessment",
    "get_assessment",
    "get_purpose",
    "insert_assessment",
    "insert_notice",
    "insert_purpose",
    "latest_notice",
    "list_assessments",
    "list_purposes",
    "mark_assessments_stale",
    "stored_text",
    "update_purpose",
]

_COLUMNS = ("key, site_key, description, necessity, legal_basis, modes, alternatives, mandate, "
            "retention_days, storage_mode, liveness_required, public_security, threshold, status, "
            "registered_at, updated_at, pack, calibration_id, next_pack, next_threshold, "
            "next_calibration_id, migration_ends_at, population, name")
_COUNT = len(_COLUMNS.split(","))


def _row(p: Purpose) -> tuple[object, ...]:
    return (p.key, p.site_key, p.description.to_json(), p.necessity.to_json(),
            p.legal_basis.to_json(), ",".join(sorted(p.modes)),
            json.dumps([a.as_dict() for a in p.alternatives], ensure_ascii=False),
            None if p.mandate is None else p.mandate.to_json(), p.retention_days,
            p.storage_mode.value, int(p.liveness_required),
            int(p.public_security), p.threshold, p.status.value, p.registered_at.isoformat(),
            p.updated_at.isoformat(), p.pack, p.calibration_id, p.next_pack, p.next_threshold,
            p.next_calibration_id,
            p.migration_ends_at.isoformat() if p.migration_ends_at else None, p.population,
            p.name.to_json())


def stored_text(value: object, *, where: str) -> Text:
    """A text column's value (a JSON object of language to words, as every store holds
    since migration 0011) as a :class:`Text`.

    Raises:
        StorageError: the value is not text per language (written behind facegate's back).
    """
    try:
        return Text.from_json(str(value))
    except (ValueError, TypeError) as exc:
        raise StorageError(f"{where} does not hold text per language: {exc}",
                           details={"field": where}) from None


def _alternatives(raw: object, where: str) -> tuple[Alternative, ...]:
    """The stored alternatives: objects with a key and a name per language, or, as stored
    before names were kept per language, strings (read by :meth:`Alternative.of`)."""
    try:
        values = json.loads(str(raw))
        if not isinstance(values, list):
            raise ValueError("not a list")
        return tuple(Alternative.of(v) for v in values)
    except (ValueError, TypeError) as exc:
        raise StorageError(f"{where} does not hold alternatives: {exc}",
                           details={"field": where}) from None


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _opt_float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _purpose(r: tuple[object, ...]) -> Purpose:
    where = f"purpose {r[0]}"
    mandate = None if r[7] is None else stored_text(r[7], where=f"{where} mandate")
    return Purpose(
        key=str(r[0]), site_key=str(r[1]),
        description=stored_text(r[2], where=f"{where} description"),
        necessity=stored_text(r[3], where=f"{where} necessity"),
        legal_basis=stored_text(r[4], where=f"{where} legal_basis"),
        modes=frozenset(Mode(m) for m in str(r[5]).split(",") if m),
        alternatives=_alternatives(r[6], f"{where} alternatives"),
        mandate=mandate if mandate else None,
        retention_days=int(str(r[8])), storage_mode=StorageMode(str(r[9])),
        liveness_required=bool(r[10]), public_security=bool(r[11]),
        threshold=_opt_float(r[12]), status=PurposeStatus(str(r[13])),
        registered_at=parse_time(str(r[14])), updated_at=parse_time(str(r[15])),
        pack=str(r[16]), calibration_id=_opt_int(r[17]),
        next_pack=None if r[18] is None else str(r[18]), next_threshold=_opt_float(r[19]),
        next_calibration_id=_opt_int(r[20]),
        migration_ends_at=None if r[21] is None else parse_time(str(r[21])),
        population=str(r[22]), name=stored_text(r[23], where=f"{where} name"))


def insert_purpose(conn: Connection, *, purpose: Purpose) -> None:
    conn.execute(f"INSERT INTO purposes ({_COLUMNS}) VALUES ({', '.join('?' * _COUNT)})",
                 _row(purpose))


def update_purpose(conn: Connection, *, purpose: Purpose) -> None:
    """Overwrite every field of the purpose with key ``purpose.key``."""
    row = _row(purpose)
    names = [c.strip() for c in _COLUMNS.split(",")]
    sets = ", ".join(f"{n} = ?" for n in names[1:])
    conn.execute(f"UPDATE purposes SET {sets} WHERE key = ?", (*row[1:], row[0]))


def get_purpose(conn: Connection, *, key: str) -> Purpose | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM purposes WHERE key = ?", (key,)).fetchone()
    return None if row is None else _purpose(row)


def list_purposes(conn: Connection) -> list[Purpose]:
    return [_purpose(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM purposes ORDER BY key")]


def _content_json(content: Mapping[str, Text]) -> str:
    return json.dumps({item: dict(words) for item, words in content.items()},
                      ensure_ascii=False, sort_keys=True)


def _content(raw: object, where: str) -> Mapping[str, Text]:
    """A stored notice's or assessment's content: item to words per language (an item
    stored as a string, as assessments were before statements were kept per language,
    is filed under its script's language)."""
    try:
        value = json.loads(str(raw))
        if not isinstance(value, dict):
            raise ValueError("not an object")
        return frozen_content({str(k): Text.of(v) for k, v in value.items()})
    except (ValueError, TypeError) as exc:
        raise StorageError(f"{where} does not hold its items per language: {exc}",
                           details={"field": where}) from None


def insert_notice(conn: Connection, *, purpose_key: str,
                  content: Mapping[str, Text], published_at: datetime) -> Notice:
    """Store the next version of the purpose's notice and return it."""
    (latest,) = conn.execute("SELECT coalesce(max(version), 0) FROM notices WHERE purpose_key = ?",
                             (purpose_key,)).fetchone()
    version = int(latest) + 1
    conn.execute("INSERT INTO notices (purpose_key, version, content, published_at) "
                 "VALUES (?, ?, ?, ?)",
                 (purpose_key, version, _content_json(content), published_at.isoformat()))
    return Notice(purpose_key=purpose_key, version=version, content=frozen_content(content),
                  published_at=published_at)


def latest_notice(conn: Connection, *, purpose_key: str) -> Notice | None:
    row = conn.execute("SELECT version, content, published_at FROM notices WHERE purpose_key = ? "
                       "ORDER BY version DESC LIMIT 1", (purpose_key,)).fetchone()
    if row is None:
        return None
    return Notice(purpose_key=purpose_key, version=int(row[0]),
                  content=_content(row[1], f"notice {purpose_key} v{row[0]}"),
                  published_at=parse_time(row[2]))


_A_COLUMNS = ("id, purpose_key, content, method_fingerprint, signed_by, signed_at, stale_since, "
              "stale_reason")


def _assessment(r: tuple[object, ...]) -> Assessment:
    return Assessment(
        id=int(str(r[0])), purpose_key=str(r[1]),
        content=_content(r[2], f"impact assessment {r[0]}"), method_fingerprint=str(r[3]),
        signed_by=str(r[4]), signed_at=parse_time(str(r[5])),
        stale_since=None if r[6] is None else parse_time(str(r[6])),
        stale_reason=None if r[7] is None else str(r[7]))


def insert_assessment(conn: Connection, *, purpose_key: str, content: Mapping[str, Text],
                      fingerprint: str, signed_by: str, signed_at: datetime) -> Assessment:
    cur = conn.execute(
        "INSERT INTO assessments (purpose_key, content, method_fingerprint, signed_by, signed_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (purpose_key, _content_json(content), fingerprint,
         signed_by, signed_at.isoformat()))
    found = get_assessment(conn, id=int(cur.fetchone()[0]))
    assert found is not None
    return found


def get_assessment(conn: Connection, *, id: int) -> Assessment | None:
    row = conn.execute(f"SELECT {_A_COLUMNS} FROM assessments WHERE id = ?", (id,)).fetchone()
    return None if row is None else _assessment(row)


def list_assessments(conn: Connection, *, purpose_key: str) -> list[Assessment]:
    return [_assessment(r) for r in conn.execute(
        f"SELECT {_A_COLUMNS} FROM assessments WHERE purpose_key = ? ORDER BY id",
        (purpose_key,))]


def mark_assessments_stale(conn: Connection, *, purpose_key: str | None, at: datetime,
                           reason: str) -> int:
    """Mark the current assessments of one purpose (or of all, ``None``) stale."""
    where, args = ("purpose_key = ? AND ", (purpose_key,)) if purpose_key else ("", ())
    cur = conn.execute(f"UPDATE assessments SET stale_since = ?, stale_reason = ? "
                       f"WHERE {where}stale_since IS NULL", (at.isoformat(), reason, *args))
    return cur.rowcount


def delete_assessment(conn: Connection, *, id: int) -> None:
    conn.execute("DELETE FROM assessments WHERE id = ?", (id,))
