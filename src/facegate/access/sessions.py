"""Browser sessions and rate buckets in the store, so that any service process serves any
request: their SQL.

A session's cookie is ``<id>.<key>``: two values of 256 random bits. The store
keeps the SHA-256 of the id (like an API key's secret), the signed-in key's id
(so revoking a key ends its sessions) and the session's data (its CSRF token,
language, the kiosk's visit, which may hold a subject's token until the receipt
is shown) sealed with AES-256-GCM under the cookie's key, which the store never
sees. A copy of the store therefore neither opens a session nor reads one.

A rate bucket is one row per caller: its tokens and when they were counted,
refilled continuously at ``per_minute / 60`` a second up to ``per_minute``.
Spending one locks the row (PostgreSQL) or the database (SQLite) for the few
statements it takes, so every process draws on the same allowance.

Functions are keyword-only and take the connection; the caller owns the
transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..crypto.envelope import associated_data, open_sealed, seal
from ..errors import CryptoInvalid

if TYPE_CHECKING:
    from ..storage.connection import Connection

__all__ = ["StoredSession", "delete_key_sessions", "delete_session", "insert_session",
           "load_session", "new_cookie", "purge_rate_buckets", "purge_sessions",
           "spend_token", "touch_session", "update_session"]


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as read back: its data (opened), key and times (unix seconds)."""

    data: dict[str, Any]
    key_id: str | None
    seen_at: float
    visit_seen_at: float


def new_cookie() -> str:
    """A fresh cookie value: ``<id>.<key>``."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{secrets.token_urlsafe(32)}.{key}"


def _split(cookie: str) -> tuple[str, bytes] | None:
    """The stored id (SHA-256 of the cookie's id) and the sealing key, or ``None``."""
    sid, _, key = cookie.partition(".")
    if not sid or len(key) != 43 or len(sid) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(key + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32:
        return None
    return hashlib.sha256(sid.encode()).hexdigest(), raw


def _seal(key: bytes, row_id: str, data: dict[str, Any]) -> bytes:
    return seal(key, json.dumps(data, sort_keys=True).encode(),
                associated_data("web-session", row_id))


def insert_session(conn: Connection, *, cookie: str, data: dict[str, Any],
                   key_id: str | None, now: float) -> None:
    parts = _split(cookie)
    if parts is None:
        raise CryptoInvalid("not a session cookie")
    row_id, key = parts
    conn.execute("INSERT INTO web_sessions (id, key_id, sealed, created_at, seen_at, "
                 "visit_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (row_id, key_id, _seal(key, row_id, data), now, now, now))


def load_session(conn: Connection, *, cookie: str) -> StoredSession | None:
    """The session the cookie names, or ``None`` (unknown, malformed, or not ours)."""
    parts = _split(cookie)
    if parts is None:
        return None
    row_id, key = parts
    row = conn.execute("SELECT sealed, key_id, seen_at, visit_seen_at FROM web_sessions "
                       "WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        return None
    try:
        data = json.loads(open_sealed(key, bytes(row[0]), associated_data("web-session",
                                                                            row_id)))
    except (CryptoInvalid, ValueError):
        return None
    return StoredSession(data=data, key_id=row[1], seen_at=float(row[2]),
                         visit_seen_at=float(row[3] or row[2]))


def update_session(conn: Connection, *, cookie: str, data: dict[str, Any],
                   key_id: str | None, now: float, visit_seen: float) -> bool:
    """Store the session's new data; ``False`` when it no longer exists (signed out)."""
    parts = _split(cookie)
    if parts is None:
        return False
    row_id, key = parts
    return conn.execute("UPDATE web_sessions SET sealed = ?, key_id = ?, seen_at = ?, "
                        "visit_seen_at = ? WHERE id = ?",
                        (_seal(key, row_id, data), key_id, now, visit_seen,
                         row_id)).rowcount == 1


def touch_session(conn: Connection, *, cookie: str, now: float, visit_seen: float) -> None:
    """Record that the session was used (its data unchanged)."""
    parts = _split(cookie)
    if parts is not None:
        conn.execute("UPDATE web_sessions SET seen_at = ?, visit_seen_at = ? WHERE id = ?",
                     (now, visit_seen, parts[0]))


def delete_session(conn: Connection, *, cookie: str) -> None:
    parts = _split(cookie)
    if parts is not None:
        conn.execute("DELETE FROM web_sessions WHERE id = ?", (parts[0],))


def delete_key_sessions(conn: Connection, *, key_id: str) -> int:
    """End every session signed in with ``key_id``; returns how many."""
    return conn.execute("DELETE FROM web_sessions WHERE key_id = ?", (key_id,)).rowcount


def purge_sessions(conn: Connection, *, idle_before: float, anonymous_before: float) -> int:
    """Delete sessions idle since ``idle_before``, and sessions nobody signed in to idle
    since ``anonymous_before``; returns how many."""
    return conn.execute("DELETE FROM web_sessions WHERE seen_at < ? OR "
                        "(key_id IS NULL AND seen_at < ?)",
                        (idle_before, anonymous_before)).rowcount


def spend_token(conn: Connection, *, bucket: str, per_minute: int, now: float) -> float | None:
    """Spend one request of ``bucket``'s allowance; ``None`` when spent, else the seconds
    until one is available (nothing is spent then)."""
    capacity = float(per_minute)
    rate = per_minute / 60.0
    row = conn.execute("INSERT INTO rate_buckets (bucket, tokens, updated) VALUES (?, ?, ?) "
                       "ON CONFLICT (bucket) DO UPDATE SET tokens = rate_buckets.tokens "
                       "RETURNING tokens, updated", (bucket, capacity, now)).fetchone()
    tokens = min(capacity, float(row[0]) + max(0.0, now - float(row[1])) * rate)
    if tokens < 1.0:
        conn.execute("UPDATE rate_buckets SET tokens = ?, updated = ? WHERE bucket = ?",
                     (tokens, now, bucket))
        return (1.0 - tokens) / rate
    conn.execute("UPDATE rate_buckets SET tokens = ?, updated = ? WHERE bucket = ?",
                 (tokens - 1.0, now, bucket))
    return None


def purge_rate_buckets(conn: Connection, *, before: float) -> int:
    """Delete buckets untouched since ``before`` (they would be full again anyway)."""
    return conn.execute("DELETE FROM rate_buckets WHERE updated < ?", (before,)).rowcount
