"""SQL for cameras and their streams' state.

Keyword-only; the caller owns the transaction. A camera's source is sealed under the
key-encryption key with associated data naming the camera (``camera:<id>``): a sealed
source moved to another camera's row does not open. Only the redacted form is kept in
plain text. Rotation re-wraps it like the subjects' data keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import parse_time
from ..crypto.keyring import KeyRing
from ..errors import CameraNotFound
from ..organisation.models import SiteType
from ..purposes.models import Mode
from .models import Camera, redact_source

if TYPE_CHECKING:
    from ..storage.connection import Connection

__all__ = [
    "StreamRow",
    "camera_kek_ids",
    "get_camera",
    "get_stream",
    "insert_camera",
    "list_cameras",
    "list_streams",
    "open_source",
    "put_stream",
    "retire_camera",
    "rewrap_camera_sources",
    "update_stream",
]

_COLUMNS = ("id, site_key, purposes, mode, placement, label, signage, source_shown, "
            "registered_at, retired_at")
_STREAM = ("camera_id, wanted, requested_by, session_id, state, holder, lease_until, "
           "started_at, updated_at, counts, error")


@dataclass(frozen=True, slots=True)
class StreamRow:
    """What the store says of a camera's stream: what should run, who runs it, how it goes."""

    camera_id: str
    wanted: str
    requested_by: str | None
    session_id: str | None
    state: str
    holder: str | None
    lease_until: float | None
    started_at: datetime | None
    updated_at: datetime | None
    counts: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


def _label(camera_id: str) -> str:
    return f"camera:{camera_id}"


def _camera(r: tuple[Any, ...]) -> Camera:
    return Camera(id=str(r[0]), site_key=str(r[1]), purposes=tuple(json.loads(r[2])),
                  mode=Mode(str(r[3])), placement=SiteType(str(r[4])), label=str(r[5]),
                  signage=None if r[6] is None else str(r[6]),
                  source_shown=None if r[7] is None else str(r[7]),
                  registered_at=parse_time(str(r[8])),
                  retired_at=parse_time(str(r[9])) if r[9] else None)


def insert_camera(conn: Connection, *, ring: KeyRing, camera: Camera,
                  source: str | None) -> None:
    """Store a camera; its source (when given) sealed, and shown only redacted."""
    kek: str | None = None
    sealed: bytes | None = None
    if source is not None:
        kek, sealed = ring.wrap(source.encode("utf-8"), subject_id=_label(camera.id))
    conn.execute(f"INSERT INTO cameras ({_COLUMNS}, kek_id, source_sealed) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (camera.id, camera.site_key, json.dumps(list(camera.purposes)),
                  camera.mode.value, camera.placement.value, camera.label, camera.signage,
                  None if source is None else redact_source(source),
                  camera.registered_at.isoformat(), None, kek, sealed))


def get_camera(conn: Connection, *, camera_id: str, retired: bool = False) -> Camera:
    """The camera ``camera_id`` (a retired one only with ``retired``).

    Raises:
        CameraNotFound: no such camera.
    """
    row = conn.execute(f"SELECT {_COLUMNS} FROM cameras WHERE id = ?", (camera_id,)).fetchone()
    if row is None or (row[9] is not None and not retired):
        raise CameraNotFound(f"camera {camera_id!r} is not registered",
                             details={"camera": camera_id})
    return _camera(row)


def list_cameras(conn: Connection, *, retired: bool = False) -> list[Camera]:
    sql = f"SELECT {_COLUMNS} FROM cameras"
    if not retired:
        sql += " WHERE retired_at IS NULL"
    return [_camera(r) for r in conn.execute(sql + " ORDER BY id")]


def open_source(conn: Connection, *, ring: KeyRing, camera_id: str) -> str | None:
    """The camera's stored source in full (``None``: none stored).

    Raises:
        CryptoInvalid: the sealed source was altered or moved from another camera's row.
    """
    row = conn.execute("SELECT kek_id, source_sealed FROM cameras WHERE id = ?",
                       (camera_id,)).fetchone()
    if row is None or row[1] is None:
        return None
    return ring.unwrap(bytes(row[1]), kek=str(row[0]),
                       subject_id=_label(camera_id)).decode("utf-8")


def retire_camera(conn: Connection, *, camera_id: str, at: datetime) -> None:
    """Take a camera out of service: its sealed source is deleted, the record stays."""
    conn.execute("UPDATE cameras SET retired_at = ?, kek_id = NULL, source_sealed = NULL "
                 "WHERE id = ? AND retired_at IS NULL", (at.isoformat(), camera_id))


def camera_kek_ids(conn: Connection) -> set[str]:
    """KEKs that wrap a camera's source."""
    return {str(r[0]) for r in conn.execute(
        "SELECT DISTINCT kek_id FROM cameras WHERE kek_id IS NOT NULL")}


def rewrap_camera_sources(conn: Connection, *, ring: KeyRing) -> int:
    """Re-wrap every sealed source not under ``ring.active``; returns how many."""
    rows = conn.execute("SELECT id, kek_id, source_sealed FROM cameras WHERE kek_id IS NOT NULL "
                        "AND kek_id != ?", (ring.active,)).fetchall()
    for camera_id, kek, sealed in rows:
        raw = ring.unwrap(bytes(sealed), kek=str(kek), subject_id=_label(str(camera_id)))
        new_kek, new_sealed = ring.wrap(raw, subject_id=_label(str(camera_id)))
        conn.execute("UPDATE cameras SET kek_id = ?, source_sealed = ? WHERE id = ?",
                     (new_kek, new_sealed, camera_id))
    return len(rows)


# -- the stream's state ------------------------------------------------------------------

def _stream(r: tuple[Any, ...]) -> StreamRow:
    return StreamRow(camera_id=str(r[0]), wanted=str(r[1]),
                     requested_by=None if r[2] is None else str(r[2]),
                     session_id=None if r[3] is None else str(r[3]), state=str(r[4]),
                     holder=None if r[5] is None else str(r[5]),
                     lease_until=None if r[6] is None else float(r[6]),
                     started_at=parse_time(str(r[7])) if r[7] else None,
                     updated_at=parse_time(str(r[8])) if r[8] else None,
                     counts=json.loads(str(r[9]) or "{}"),
                     error=None if r[10] is None else str(r[10]))


def get_stream(conn: Connection, *, camera_id: str) -> StreamRow | None:
    row = conn.execute(f"SELECT {_STREAM} FROM camera_streams WHERE camera_id = ?",
                       (camera_id,)).fetchone()
    return None if row is None else _stream(row)


def list_streams(conn: Connection) -> dict[str, StreamRow]:
    return {str(r[0]): _stream(r) for r in conn.execute(f"SELECT {_STREAM} FROM camera_streams")}


def put_stream(conn: Connection, *, camera_id: str, wanted: str, requested_by: str | None,
               state: str, at: datetime, holder: str | None = None,
               lease_until: float | None = None, session_id: str | None = None,
               counts: Mapping[str, Any] | None = None, error: str | None = None) -> None:
    """Set what a camera's stream should do (and, for a process taking it, who holds it)."""
    conn.execute(
        f"INSERT INTO camera_streams ({_STREAM}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (camera_id) DO UPDATE SET wanted = excluded.wanted, "
        "requested_by = excluded.requested_by, session_id = excluded.session_id, "
        "state = excluded.state, holder = excluded.holder, lease_until = excluded.lease_until, "
        "started_at = excluded.started_at, updated_at = excluded.updated_at, "
        "counts = excluded.counts, error = excluded.error",
        (camera_id, wanted, requested_by, session_id, state, holder, lease_until,
         at.isoformat() if holder else None, at.isoformat(),
         json.dumps(dict(counts or {}), sort_keys=True), error))


def update_stream(conn: Connection, *, camera_id: str, holder: str, state: str,
                  lease_until: float | None, at: datetime, counts: Mapping[str, Any],
                  session_id: str | None = None, error: str | None = None,
                  release: bool = False, wanted: str | None = None) -> StreamRow | None:
    """The holder's report: state, counts and a renewed lease (``release``: the stream
    ended, the holder lets it go). Returns the row as it stands, or ``None`` when another
    process holds the stream now (this holder lost it and must stop)."""
    started = at.isoformat() if state == "running" and session_id else None
    done = conn.execute(
        "UPDATE camera_streams SET state = ?, lease_until = ?, updated_at = ?, counts = ?, "
        "error = ?, session_id = COALESCE(?, session_id), "
        "started_at = COALESCE(?, started_at), holder = ?, wanted = COALESCE(?, wanted) "
        "WHERE camera_id = ? AND holder = ?",
        (state, None if release else lease_until, at.isoformat(),
         json.dumps(dict(counts), sort_keys=True), error, session_id,
         started if session_id else None, None if release else holder, wanted, camera_id,
         holder)).rowcount
    if not done:
        return None
    return get_stream(conn, camera_id=camera_id)
