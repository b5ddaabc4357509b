"""Template rows: one descriptor per (subject, purpose, image enrolled).

**Until issue 5 ("protected storage") lands, descriptors are stored as plain
little-endian float32 bytes.** Every read and write of descriptor bytes goes
through :func:`encode_descriptor` / :func:`decode_descriptor` and the SQL in
this module, so that issue 5 can replace them with envelope AEAD (associated
data: template id, subject, purpose, model version) without touching callers.
Raw images are never stored here or anywhere (R10).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..clock import parse_time
from ..engine.faces import Descriptor

__all__ = [
    "StoredTemplate",
    "count_individuals",
    "decode_descriptor",
    "delete_expired",
    "delete_templates",
    "encode_descriptor",
    "has_templates",
    "insert_templates",
    "list_templates",
]


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """A template row, with its descriptor decoded."""

    id: int
    subject_id: str
    purpose_key: str
    site_key: str
    descriptor: Descriptor
    created_at: datetime
    expires_at: datetime


def encode_descriptor(descriptor: Descriptor) -> bytes:
    """The stored form of a descriptor (plain bytes until issue 5 seals them)."""
    return descriptor.to_bytes()


def decode_descriptor(data: bytes, *, pack: str, pack_version: str) -> Descriptor:
    """Read a stored descriptor back."""
    return Descriptor(vector=np.frombuffer(data, dtype="<f4").astype(np.float32), pack=pack,
                      pack_version=pack_version)


def insert_templates(conn: sqlite3.Connection, *,
                     rows: Iterable[tuple[str, str, str, Descriptor, datetime, datetime]]) -> None:
    """Insert ``(subject_id, purpose_key, site_key, descriptor, created_at, expires_at)`` rows."""
    conn.executemany(
        "INSERT INTO templates (subject_id, purpose_key, site_key, pack, pack_version, "
        "descriptor, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ((s, p, site, d.pack, d.pack_version, encode_descriptor(d), c.isoformat(),
          e.isoformat()) for s, p, site, d, c, e in rows))


def list_templates(conn: sqlite3.Connection, *, purpose_key: str, now: datetime,
                   subject_id: str | None = None) -> list[StoredTemplate]:
    """Unexpired templates of one purpose (and optionally one subject)."""
    sql = ("SELECT id, subject_id, purpose_key, site_key, pack, pack_version, descriptor, "
           "created_at, expires_at FROM templates WHERE purpose_key = ? AND expires_at > ?")
    args: list[object] = [purpose_key, now.isoformat()]
    if subject_id is not None:
        sql += " AND subject_id = ?"
        args.append(subject_id)
    return [StoredTemplate(id=int(r[0]), subject_id=str(r[1]), purpose_key=str(r[2]),
                           site_key=str(r[3]),
                           descriptor=decode_descriptor(r[6], pack=r[4], pack_version=r[5]),
                           created_at=parse_time(r[7]), expires_at=parse_time(r[8]))
            for r in conn.execute(sql + " ORDER BY id", args)]


def has_templates(conn: sqlite3.Connection, *, subject_id: str) -> bool:
    """Whether the subject has any stored template, for any purpose."""
    return conn.execute("SELECT 1 FROM templates WHERE subject_id = ? LIMIT 1",
                        (subject_id,)).fetchone() is not None


def count_individuals(conn: sqlite3.Connection) -> int:
    """Distinct subjects with at least one stored template, across purposes and sites."""
    return int(conn.execute("SELECT count(DISTINCT subject_id) FROM templates").fetchone()[0])


def delete_templates(conn: sqlite3.Connection, *, subject_id: str,
                     purpose_key: str | None = None) -> int:
    """Delete a subject's templates (for one purpose, or all); returns how many."""
    if purpose_key is None:
        cur = conn.execute("DELETE FROM templates WHERE subject_id = ?", (subject_id,))
    else:
        cur = conn.execute("DELETE FROM templates WHERE subject_id = ? AND purpose_key = ?",
                           (subject_id, purpose_key))
    return cur.rowcount


def delete_expired(conn: sqlite3.Connection, *, now: datetime) -> int:
    """Delete every template past its expiry; returns how many."""
    return conn.execute("DELETE FROM templates WHERE expires_at <= ?",
                        (now.isoformat(),)).rowcount
