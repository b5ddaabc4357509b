"""Template rows: one sealed descriptor per (subject, purpose, image enrolled).

A descriptor is stored only as an AES-256-GCM envelope
(:mod:`facegate.crypto.envelope`) under the subject's data key
(:mod:`facegate.templates.keys`). Its associated data binds it to the row's
random ``uid`` (assigned before insert), subject, purpose, model pack and pack
version, so a ciphertext copied into another row, or a row moved to another
subject or purpose, fails to open with :class:`~facegate.errors.CryptoInvalid`.
Every row also carries a tag over all its columns (consent link and expiry
included), written and counted by a :class:`~facegate.audit.integrity.RowGuard`;
a row read back whose tag does not verify is refused
(:class:`~facegate.errors.StoreTampered`), never matched.
Raw images are never stored here (R10); see :mod:`facegate.templates.images`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..audit.integrity import TABLES, RowGuard
from ..clock import parse_time
from ..crypto.envelope import associated_data, open_sealed, seal
from ..engine.faces import Descriptor
from ..storage.connection import Connection
from ..storage.db import notify
from .keys import DataKeys

__all__ = [
    "StoredTemplate",
    "count_individuals",
    "delete_expired",
    "delete_pack_templates",
    "delete_templates",
    "has_templates",
    "insert_templates",
    "list_templates",
    "log_gallery_changes",
    "new_uid",
    "open_descriptor",
    "seal_descriptor",
    "seal_legacy_templates",
    "subjects_with_pack",
    "template_metadata",
    "template_packs",
]

TemplateRow = tuple[str, str, str, Descriptor, datetime, datetime]


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """A template row, with its descriptor opened."""

    id: int
    uid: str
    subject_id: str
    purpose_key: str
    site_key: str
    descriptor: Descriptor
    created_at: datetime
    expires_at: datetime


def new_uid() -> str:
    """A random row id for associated data, assigned before the row is inserted."""
    return "t_" + secrets.token_hex(12)


def _ad(uid: str, subject_id: str, purpose_key: str, pack: str, pack_version: str) -> bytes:
    return associated_data("template", uid, subject_id, purpose_key, pack, pack_version)


def seal_descriptor(key: bytes, descriptor: Descriptor, *, uid: str, subject_id: str,
                    purpose_key: str) -> bytes:
    """The stored form of a descriptor: sealed, bound to its row."""
    return seal(key, descriptor.to_bytes(),
                _ad(uid, subject_id, purpose_key, descriptor.pack, descriptor.pack_version))


def open_descriptor(key: bytes, blob: bytes, *, uid: str, subject_id: str, purpose_key: str,
                    pack: str, pack_version: str) -> Descriptor:
    """Open a stored descriptor.

    Raises:
        CryptoInvalid: wrong key, or the row's uid, subject, purpose or pack changed.
    """
    data = open_sealed(key, blob, _ad(uid, subject_id, purpose_key, pack, pack_version))
    return Descriptor(vector=np.frombuffer(data, dtype="<f4").astype(np.float32), pack=pack,
                      pack_version=pack_version)


def log_gallery_changes(conn: Connection, changes: Iterable[tuple[str, str | None]]) -> None:
    """Record in ``gallery_changes`` that the templates of ``(purpose, subject)`` changed
    (``subject`` ``None``: the purpose's whole gallery), in the caller's transaction, and
    announce it to other processes when it commits. Every write to ``templates`` calls
    this, so each process's in-memory index follows the others (:mod:`facegate.matching.
    gallery`)."""
    rows = sorted(set(changes), key=lambda c: (c[0], c[1] or ""))
    if not rows:
        return
    at = datetime.now(UTC).isoformat()
    conn.executemany("INSERT INTO gallery_changes (purpose_key, subject_id, changed_at) "
                     "VALUES (?, ?, ?)", [(p, s, at) for p, s in rows])
    notify(conn, "gallery")


def insert_templates(conn: Connection, *, keys: DataKeys, rows: Iterable[TemplateRow],
                     consent_seq: int | None = None) -> list[str]:
    """Seal, insert and tag ``(subject_id, purpose_key, site_key, descriptor, created_at,
    expires_at)`` rows, linked to the consent event ``consent_seq``; returns their uids."""
    uids: list[str] = []
    changed: set[tuple[str, str | None]] = set()
    for s, p, site, d, c, e in rows:
        uid = new_uid()
        blob = seal_descriptor(keys.get(s), d, uid=uid, subject_id=s, purpose_key=p)
        row_id = conn.execute(
            "INSERT INTO templates (uid, subject_id, purpose_key, site_key, pack, pack_version, "
            "descriptor, consent_seq, created_at, expires_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (uid, s, p, site, d.pack, d.pack_version, blob, consent_seq, c.isoformat(),
             e.isoformat())).fetchone()[0]
        keys.guard.tag("templates", row_id)
        uids.append(uid)
        changed.add((p, s))
    log_gallery_changes(conn, changed)
    return uids


_SELECT = ", ".join(TABLES["templates"].columns) + ", mac"


def list_templates(conn: Connection, *, keys: DataKeys, purpose_key: str,
                   now: datetime, subject_id: str | None = None,
                   packs: Iterable[str] | None = None) -> list[StoredTemplate]:
    """Unexpired templates of one purpose (and optionally one subject, or only of
    the model ``packs`` given), their tags checked, opened.

    A row whose subject has no data key any more (erased, then restored from a
    backup) cannot be opened and is skipped: it is as good as gone.

    Raises:
        StoreTampered: a row's tag does not verify (altered, unsealed or inserted).
        CryptoInvalid: a row was altered or moved to another subject or purpose.
    """
    sql = f"SELECT {_SELECT} FROM templates WHERE purpose_key = ? AND expires_at > ?"
    args: list[object] = [purpose_key, now.isoformat()]
    if subject_id is not None:
        sql += " AND subject_id = ?"
        args.append(subject_id)
    if packs is not None:
        wanted = sorted(set(packs))
        sql += f" AND pack IN ({', '.join('?' * len(wanted))})"
        args += wanted
    out = []
    for r in conn.execute(sql + " ORDER BY id", args).fetchall():
        keys.guard.check("templates", tuple(r))
        key = keys.find(str(r[2]))
        if key is None:
            continue
        descriptor = open_descriptor(key, bytes(r[7]), uid=str(r[1]), subject_id=str(r[2]),
                                     purpose_key=str(r[3]), pack=str(r[5]),
                                     pack_version=str(r[6]))
        out.append(StoredTemplate(id=int(r[0]), uid=str(r[1]), subject_id=str(r[2]),
                                  purpose_key=str(r[3]), site_key=str(r[4]),
                                  descriptor=descriptor, created_at=parse_time(r[9]),
                                  expires_at=parse_time(r[10])))
    return out


def template_metadata(conn: Connection, *, subject_id: str) -> list[dict[str, Any]]:
    """What is stored about each of the subject's templates, without the vector."""
    rows = conn.execute("SELECT uid, purpose_key, site_key, pack, pack_version, created_at, "
                        "expires_at FROM templates WHERE subject_id = ? ORDER BY id",
                        (subject_id,))
    names = ("uid", "purpose", "site", "pack", "pack_version", "created_at", "expires_at")
    return [dict(zip(names, r, strict=True)) for r in rows]


def seal_legacy_templates(conn: Connection, *, keys: DataKeys) -> int:
    """Seal the plain descriptors of a store written before protected storage; returns how
    many. For ``facegate store upgrade`` only: no other path adopts an unsealed row."""
    rows = conn.execute("SELECT id, subject_id, purpose_key, pack, pack_version, descriptor "
                        "FROM templates WHERE uid IS NULL").fetchall()
    for row_id, s, p, pack, version, data in rows:
        uid = new_uid()
        d = Descriptor(vector=np.frombuffer(bytes(data), dtype="<f4").astype(np.float32),
                       pack=str(pack), pack_version=str(version))
        conn.execute("UPDATE templates SET uid = ?, descriptor = ? WHERE id = ?",
                     (uid, seal_descriptor(keys.get(str(s)), d, uid=uid, subject_id=str(s),
                                           purpose_key=str(p)), row_id))
    return len(rows)


def template_packs(conn: Connection, *, subject_id: str, purpose_key: str,
                   now: datetime) -> set[str]:
    """The model packs of the subject's unexpired templates for a purpose (no vectors)."""
    return {str(r[0]) for r in conn.execute(
        "SELECT DISTINCT pack FROM templates WHERE subject_id = ? AND purpose_key = ? "
        "AND expires_at > ?", (subject_id, purpose_key, now.isoformat()))}


def has_templates(conn: Connection, *, subject_id: str) -> bool:
    """Whether the subject has any stored template, for any purpose."""
    return conn.execute("SELECT 1 FROM templates WHERE subject_id = ? LIMIT 1",
                        (subject_id,)).fetchone() is not None


def purpose_template_stats(conn: Connection, *,
                           purpose_key: str) -> tuple[int, int, datetime | None]:
    """A purpose's stored templates, distinct individuals and earliest expiry (no vectors)."""
    row = conn.execute("SELECT count(*), count(DISTINCT subject_id), min(expires_at) "
                       "FROM templates WHERE purpose_key = ?", (purpose_key,)).fetchone()
    return int(row[0]), int(row[1]), None if row[2] is None else parse_time(str(row[2]))


def count_individuals(conn: Connection) -> int:
    """Distinct subjects with at least one stored template, across purposes and sites."""
    return int(conn.execute("SELECT count(DISTINCT subject_id) FROM templates").fetchone()[0])


def delete_templates(conn: Connection, *, guard: RowGuard, subject_id: str,
                     purpose_key: str | None = None) -> int:
    """Delete a subject's templates (for one purpose, or all); returns how many."""
    if purpose_key is None:
        purposes = [str(r[0]) for r in conn.execute(
            "SELECT DISTINCT purpose_key FROM templates WHERE subject_id = ?", (subject_id,))]
        count = guard.delete("templates", "subject_id = ?", (subject_id,))
    else:
        purposes = [purpose_key]
        count = guard.delete("templates", "subject_id = ? AND purpose_key = ?",
                             (subject_id, purpose_key))
    if count:
        log_gallery_changes(conn, ((p, subject_id) for p in purposes))
    return count


def subjects_with_pack(conn: Connection, *, purpose_key: str, pack: str) -> set[str]:
    """The subjects holding at least one template of ``pack`` for the purpose."""
    return {str(r[0]) for r in conn.execute(
        "SELECT DISTINCT subject_id FROM templates WHERE purpose_key = ? AND pack = ?",
        (purpose_key, pack))}


def delete_pack_templates(conn: Connection, *, guard: RowGuard, purpose_key: str,
                          pack: str) -> list[tuple[str, str, str]]:
    """Delete a purpose's templates of one pack and any image retained with them (the end
    of a pack migration); returns ``(uid, subject_id, purpose_key)`` of each template."""
    rows = [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
        "SELECT uid, subject_id, purpose_key FROM templates WHERE purpose_key = ? AND pack = ?",
        (purpose_key, pack))]
    conn.executemany("DELETE FROM retained_images WHERE template_uid = ?",
                     ((uid,) for uid, _, _ in rows))
    guard.delete("templates", "purpose_key = ? AND pack = ?", (purpose_key, pack))
    log_gallery_changes(conn, [(purpose_key, None)])
    return rows


def delete_expired(conn: Connection, *, guard: RowGuard,
                   now: datetime) -> list[tuple[str, str, str]]:
    """Delete every template past its expiry; returns ``(uid, subject, purpose)`` of each."""
    gone = [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
        "SELECT uid, subject_id, purpose_key FROM templates WHERE expires_at <= ? ORDER BY id",
        (now.isoformat(),))]
    guard.delete("templates", "expires_at <= ?", (now.isoformat(),))
    log_gallery_changes(conn, ((p, s) for _, s, p in gone))
    return gone
