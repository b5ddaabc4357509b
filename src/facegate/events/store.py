"""Webhook endpoints and the outbox: their SQL.

An endpoint is registered by an admin with a URL, an audience (``door``, ``hr``,
``review``, ``audit``), optionally a subset of the audience's event types, and a
scope of purposes and sites like an API key's. Its HMAC secret (``whsec_`` and
256 random bits) is shown once; the store keeps it only wrapped by the
key-encryption key (re-wrapped at key rotation, like the subjects' data keys).

The outbox holds one row per (endpoint, event), inserted in the transaction of
the audit entry the event comes from, so a crash loses nothing. A sender claims
due rows with a short lease (a conditional ``UPDATE``, so two processes never
send the same row at once), then marks each delivered, or failed with its next
attempt after an exponential backoff, or given up after the last attempt.

Functions are keyword-only and take the connection; the caller owns the
transaction.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import parse_time
from ..crypto.keyring import KeyRing
from ..errors import NotFound
from .catalogue import Event
from .delivery import Delivery

if TYPE_CHECKING:
    from ..storage.connection import Connection

__all__ = ["Endpoint", "any_due", "claim_due", "endpoint_kek_ids", "enqueue", "get_endpoint",
           "insert_endpoint", "list_endpoints", "load_delivery", "mark_attempt",
           "outbox_counts", "purge_outbox", "revoke_endpoint", "rewrap_endpoint_secrets"]

_COLUMNS = "id, url, label, audience, types, purposes, sites, created_at, revoked_at"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A registered webhook endpoint (never its secret)."""

    id: str
    url: str
    label: str
    audience: str
    types: frozenset[str] | None
    purposes: frozenset[str] | None
    sites: frozenset[str] | None
    created_at: datetime
    revoked_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        def listed(v: frozenset[str] | None) -> list[str] | None:
            return None if v is None else sorted(v)
        return {"id": self.id, "url": self.url, "label": self.label, "audience": self.audience,
                "types": listed(self.types), "purposes": listed(self.purposes),
                "sites": listed(self.sites), "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def _label(endpoint_id: str) -> str:
    return f"webhook:{endpoint_id}"


def _text(secret: bytes) -> str:
    return "whsec_" + base64.urlsafe_b64encode(secret).decode().rstrip("=")


def _list(values: frozenset[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def _unlist(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))


def _endpoint(r: tuple[Any, ...]) -> Endpoint:
    return Endpoint(id=str(r[0]), url=str(r[1]), label=str(r[2]), audience=str(r[3]),
                    types=_unlist(r[4]), purposes=_unlist(r[5]), sites=_unlist(r[6]),
                    created_at=parse_time(str(r[7])),
                    revoked_at=parse_time(str(r[8])) if r[8] else None)


def insert_endpoint(conn: Connection, *, ring: KeyRing, url: str, label: str, audience: str,
                    types: frozenset[str] | None, purposes: frozenset[str] | None,
                    sites: frozenset[str] | None, now: datetime) -> tuple[Endpoint, str]:
    """Store a new endpoint; returns it and its secret (the only time it is seen)."""
    endpoint = Endpoint(id="wh_" + secrets.token_hex(6), url=url, label=label,
                        audience=audience, types=types, purposes=purposes, sites=sites,
                        created_at=now)
    raw = secrets.token_bytes(32)
    kek, wrapped = ring.wrap(raw, subject_id=_label(endpoint.id))
    conn.execute(f"INSERT INTO webhook_endpoints ({_COLUMNS}, kek_id, wrapped_secret) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (endpoint.id, url, label, audience, _list(types), _list(purposes),
                  _list(sites), now.isoformat(), None, kek, wrapped))
    return endpoint, _text(raw)


def list_endpoints(conn: Connection, *, active_only: bool = False) -> list[Endpoint]:
    sql = f"SELECT {_COLUMNS} FROM webhook_endpoints"
    if active_only:
        sql += " WHERE revoked_at IS NULL"
    return [_endpoint(r) for r in conn.execute(sql + " ORDER BY created_at, id")]


def get_endpoint(conn: Connection, *, endpoint_id: str) -> Endpoint:
    row = conn.execute(f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = ?",
                       (endpoint_id,)).fetchone()
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}", details={"webhook": endpoint_id})
    return _endpoint(row)


def revoke_endpoint(conn: Connection, *, endpoint_id: str, now: datetime) -> Endpoint:
    """Stop deliveries to an endpoint; what it had not received yet is given up."""
    get_endpoint(conn, endpoint_id=endpoint_id)
    conn.execute("UPDATE webhook_endpoints SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                 (now.isoformat(), endpoint_id))
    conn.execute("UPDATE webhook_outbox SET failed_at = ?, last_status = 'endpoint revoked' "
                 "WHERE endpoint_id = ? AND delivered_at IS NULL AND failed_at IS NULL",
                 (now.isoformat(), endpoint_id))
    return get_endpoint(conn, endpoint_id=endpoint_id)


def enqueue(conn: Connection, *, endpoint_id: str, event: Event, now: datetime,
            first_attempt: float) -> None:
    """Put ``event`` in the outbox for ``endpoint_id`` (once: the pair is unique)."""
    body = json.dumps(event.body(), sort_keys=True, separators=(",", ":"), default=str)
    conn.execute("INSERT INTO webhook_outbox (endpoint_id, event_seq, event_type, body, "
                 "created_at, attempts, next_attempt) VALUES (?, ?, ?, ?, ?, 0, ?) "
                 "ON CONFLICT (endpoint_id, event_seq) DO NOTHING",
                 (endpoint_id, event.audit_seq, event.type, body, now.isoformat(),
                  first_attempt))


def any_due(conn: Connection, *, now: float) -> bool:
    """Whether any row is due for an attempt now (a read, before claiming)."""
    return conn.execute("SELECT 1 FROM webhook_outbox WHERE delivered_at IS NULL AND "
                        "failed_at IS NULL AND next_attempt <= ? AND "
                        "(leased_until IS NULL OR leased_until < ?) LIMIT 1",
                        (now, now)).fetchone() is not None


def claim_due(conn: Connection, *, now: float, lease: float, limit: int) -> list[int]:
    """Claim up to ``limit`` rows due for an attempt, for ``lease`` seconds; their ids."""
    rows = conn.execute("SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND "
                        "failed_at IS NULL AND next_attempt <= ? AND "
                        "(leased_until IS NULL OR leased_until < ?) ORDER BY id LIMIT ?",
                        (now, now, limit)).fetchall()
    claimed = []
    for (row_id,) in rows:
        if conn.execute("UPDATE webhook_outbox SET leased_until = ? WHERE id = ? AND "
                        "delivered_at IS NULL AND failed_at IS NULL AND "
                        "(leased_until IS NULL OR leased_until < ?)",
                        (now + lease, row_id, now)).rowcount == 1:
            claimed.append(int(row_id))
    return claimed


def load_delivery(conn: Connection, *, ring: KeyRing, delivery_id: int) -> Delivery | None:
    """A claimed row with its endpoint's URL and secret (``None``: the endpoint was revoked)."""
    row = conn.execute(
        "SELECT o.id, o.endpoint_id, e.url, e.kek_id, e.wrapped_secret, o.event_seq, "
        "o.event_type, o.body, o.attempts, e.revoked_at FROM webhook_outbox o "
        "JOIN webhook_endpoints e ON e.id = o.endpoint_id WHERE o.id = ?",
        (delivery_id,)).fetchone()
    if row is None or row[9] is not None:
        return None
    raw = ring.unwrap(bytes(row[4]), kek=str(row[3]), subject_id=_label(str(row[1])))
    return Delivery(id=int(row[0]), endpoint_id=str(row[1]), url=str(row[2]),
                    secret=_text(raw).encode(), event_id=f"evt_{int(row[5])}",
                    event_type=str(row[6]), body=str(row[7]).encode(), attempts=int(row[8]))


def mark_attempt(conn: Connection, *, delivery_id: int, delivered: bool, status: str,
                 now: datetime, next_attempt: float | None) -> None:
    """Record an attempt: delivered; or failed, to be tried again at ``next_attempt``
    (``None``: given up)."""
    if delivered:
        conn.execute("UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, "
                     "leased_until = NULL, last_status = ? WHERE id = ?",
                     (now.isoformat(), status, delivery_id))
    elif next_attempt is None:
        conn.execute("UPDATE webhook_outbox SET failed_at = ?, attempts = attempts + 1, "
                     "leased_until = NULL, last_status = ? WHERE id = ?",
                     (now.isoformat(), status, delivery_id))
    else:
        conn.execute("UPDATE webhook_outbox SET next_attempt = ?, attempts = attempts + 1, "
                     "leased_until = NULL, last_status = ? WHERE id = ?",
                     (next_attempt, status, delivery_id))


def outbox_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Per endpoint: events ``pending`` (not yet delivered, still tried), ``delivered``
    and ``failed`` (given up)."""
    out: dict[str, dict[str, int]] = {}
    for endpoint_id, pending, delivered, failed in conn.execute(
            "SELECT endpoint_id, "
            "sum(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END) "
            "FROM webhook_outbox GROUP BY endpoint_id"):
        out[str(endpoint_id)] = {"pending": int(pending or 0), "delivered": int(delivered or 0),
                                 "failed": int(failed or 0)}
    return out


def purge_outbox(conn: Connection, *, before: datetime) -> int:
    """Delete rows delivered or given up before ``before``; returns how many."""
    return conn.execute("DELETE FROM webhook_outbox WHERE (delivered_at IS NOT NULL AND "
                        "delivered_at < ?) OR (failed_at IS NOT NULL AND failed_at < ?)",
                        (before.isoformat(), before.isoformat())).rowcount


def endpoint_kek_ids(conn: Connection) -> set[str]:
    """KEKs that wrap an endpoint's secret."""
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT kek_id FROM webhook_endpoints")}


def rewrap_endpoint_secrets(conn: Connection, *, ring: KeyRing) -> int:
    """Re-wrap every endpoint secret not under ``ring.active``; returns how many."""
    rows = conn.execute("SELECT id, kek_id, wrapped_secret FROM webhook_endpoints WHERE "
                        "kek_id != ?", (ring.active,)).fetchall()
    for endpoint_id, kek, wrapped in rows:
        raw = ring.unwrap(bytes(wrapped), kek=str(kek), subject_id=_label(str(endpoint_id)))
        new_kek, new_wrapped = ring.wrap(raw, subject_id=_label(str(endpoint_id)))
        conn.execute("UPDATE webhook_endpoints SET kek_id = ?, wrapped_secret = ? WHERE id = ?",
                     (new_kek, new_wrapped, endpoint_id))
    return len(rows)
