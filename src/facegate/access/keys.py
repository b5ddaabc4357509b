"""API keys and idempotent responses: their SQL.

A secret is ``fg_`` plus 256 random bits (URL-safe base64), shown once; the
store keeps its SHA-256 only, which is enough for a secret of that entropy
(no password stretching needed) and lets a lookup be one indexed query.

A subject may also hold a *code*: a second subject key for a person to copy by
hand, 20 characters drawn from :data:`CODE_ALPHABET` (no 0/O, 1/l/I look-alikes),
shown in groups of four. 20 characters of 31 symbols are 99 random bits: online
guesses are rate limited, and offline a copied store's SHA-256 of one code needs
about 2^98 tries on average (2^78 per hit among a million live codes). A code is
read case- and separator-insensitively (:func:`canonical_secret`) and hashed like
any secret, in the same tagged row, so it works wherever a token does.
Functions are keyword-only and take the connection; the caller owns the
transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ..clock import parse_time
from ..errors import CredentialInvalid, InvalidArgument, NotFound
from .roles import ApiKey, Role

if TYPE_CHECKING:
    from ..audit.integrity import RowGuard
    from ..storage.connection import Connection

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "IssuedKey", "StoredResponse", "canonical_secret",
           "find_key", "get_key", "grouped_code", "hash_secret", "insert_key", "list_keys",
           "new_code", "new_secret", "recall_response", "remember_response", "revoke_key"]

#: the symbols of a subject's code: digits and capitals without 0, 1, I, L or O
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: a code's length: 20 * log2(31) = 99.1 random bits
CODE_LENGTH: Final = 20
_CODE_GROUP: Final = 4

_COLUMNS = "id, role, label, purposes, sites, subject_id, created_at, revoked_at"
#: a key row as its tag covers it (facegate.audit.integrity.TABLES["api_keys"]), then the tag
_TAGGED = ("id, secret_hash, role, label, purposes, sites, subject_id, created_at, revoked_at, "
           "mac")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key as issued: the only time its secret is seen."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer to an idempotent request."""

    request_hash: str
    status: int
    body: dict[str, Any]


def new_secret() -> str:
    return "fg_" + secrets.token_urlsafe(32)


def new_code() -> str:
    """A subject's code in its canonical form (:data:`CODE_LENGTH` symbols, no separators)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def grouped_code(code: str) -> str:
    """A code as people read it: groups of four joined by hyphens."""
    return "-".join(code[i:i + _CODE_GROUP] for i in range(0, len(code), _CODE_GROUP))


def canonical_secret(secret: str) -> str:
    """The form of ``secret`` whose hash is stored: a token as given (it is case-sensitive);
    a code with its case, spaces and separators undone. Anything else is returned as it
    is, to be refused like any unknown secret."""
    secret = secret.strip()
    if secret.startswith("fg_"):
        return secret
    code = "".join(c for c in secret.upper() if c.isalnum())
    if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code):
        return code
    return secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _scope(values: frozenset[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def _unscope(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(id=row[0], role=Role(row[1]), label=row[2], purposes=_unscope(row[3]),
                  sites=_unscope(row[4]), subject_id=row[5], created_at=parse_time(row[6]),
                  revoked_at=parse_time(row[7]) if row[7] else None)


def _checked(guard: RowGuard, row: Any) -> ApiKey:
    """The key in a row read with ``_TAGGED``, once its tag verifies.

    Raises:
        StoreTampered: the row was written or changed without the key file.
    """
    values = tuple(row)
    guard.check("api_keys", values)
    return _key((values[0], *values[2:9]))


def insert_key(conn: Connection, *, guard: RowGuard, role: Role | str, label: str,
               purposes: frozenset[str] | None, sites: frozenset[str] | None,
               subject_id: str | None, now: datetime, code: bool = False) -> IssuedKey:
    """Store a new key; its secret is returned once and never stored. ``code``: the secret
    is a code a person copies by hand (:func:`new_code`), for a subject key only."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidArgument(f"unknown role {role!r}",
                              details={"roles": [r.value for r in Role]}) from None
    if (role is Role.SUBJECT) != (subject_id is not None):
        raise InvalidArgument("a subject token, and only a subject token, names a subject",
                              details={"role": role.value})
    if not label.strip() or len(label) > 200:
        raise InvalidArgument("a key needs a label of 1 to 200 characters")
    if code and role is not Role.SUBJECT:
        raise InvalidArgument("only a subject key is a code", details={"role": role.value})
    key = ApiKey(id="k_" + secrets.token_hex(6), role=role, label=label, purposes=purposes,
                 sites=sites, subject_id=subject_id, created_at=now)
    secret = new_code() if code else new_secret()
    conn.execute(f"INSERT INTO api_keys (secret_hash, {_COLUMNS}) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (hash_secret(secret), key.id, role.value, label, _scope(purposes), _scope(sites),
                  subject_id, now.isoformat(), None))
    guard.tag("api_keys", key.id)
    return IssuedKey(key=key, secret=secret)


def find_key(conn: Connection, *, guard: RowGuard, secret: str) -> ApiKey:
    """The live key whose secret this is.

    Raises:
        CredentialInvalid: no such key, or it was revoked.
        StoreTampered: its row was written or changed without the key file.
    """
    row = conn.execute(f"SELECT {_TAGGED} FROM api_keys WHERE secret_hash = ?",
                       (hash_secret(canonical_secret(secret)),)).fetchone()
    key = None if row is None else _checked(guard, row)
    if key is None or key.revoked_at is not None:
        # One answer for both: a caller cannot tell a revoked key from one never issued.
        raise CredentialInvalid("the API key is not valid")
    return key


def get_key(conn: Connection, *, guard: RowGuard, key_id: str) -> ApiKey:
    row = conn.execute(f"SELECT {_TAGGED} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise NotFound(f"no API key {key_id!r}", details={"key": key_id})
    return _checked(guard, row)


def list_keys(conn: Connection, *, guard: RowGuard) -> list[ApiKey]:
    rows = conn.execute(f"SELECT {_TAGGED} FROM api_keys ORDER BY created_at, id").fetchall()
    return [_checked(guard, r) for r in rows]


def revoke_key(conn: Connection, *, guard: RowGuard, key_id: str, now: datetime) -> ApiKey:
    old = conn.execute(f"SELECT {_TAGGED} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    key = get_key(conn, guard=guard, key_id=key_id)
    if key.revoked_at is None:
        conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (now.isoformat(), key_id))
        guard.retag("api_keys", key_id, tuple(old))
    return get_key(conn, guard=guard, key_id=key_id)


def recall_response(conn: Connection, *, key_id: str,
                    idempotency_key: str) -> StoredResponse | None:
    row = conn.execute("SELECT request_hash, status, response FROM idempotent_requests "
                       "WHERE key_id = ? AND idempotency_key = ?",
                       (key_id, idempotency_key)).fetchone()
    if row is None:
        return None
    return StoredResponse(request_hash=row[0], status=int(row[1]), body=json.loads(row[2]))


def remember_response(conn: Connection, *, key_id: str, idempotency_key: str,
                      request_hash: str, status: int, body: dict[str, Any],
                      now: datetime) -> None:
    conn.execute("INSERT INTO idempotent_requests (key_id, idempotency_key, request_hash, "
                 "status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (key_id, idempotency_key, request_hash, status,
                  json.dumps(body, sort_keys=True, default=str), now.isoformat()))
