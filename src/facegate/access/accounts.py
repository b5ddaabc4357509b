"""Named staff accounts: their SQL, password hashes and TOTP codes.

A person signs in with three things: the account's name, a password (kept as an
argon2id hash, never in clear) and a six-digit TOTP code (RFC 6238, 30-second
steps) from an authenticator app. The TOTP secret is shown once, when the account
is made, and kept only sealed under the key-encryption key, bound to the account's
id: a copy of the store does not give it away.

A row is tagged (``facegate.audit.integrity.TABLES["staff_accounts"]``) over
everything that decides what the account may do: an account planted, a role raised,
a scope widened, a password hash swapped or a disabling undone by someone who can
write the database but has not the key file does not verify, and is not used.

An accepted code's time step is remembered: the same code, or an older one, is
refused even within its window. After :data:`MAX_FAILURES` failed sign-ins in a row
the account is locked for :data:`LOCKOUT_SECONDS`; a correct sign-in clears the count.

Functions are keyword-only and take the connection; the caller owns the transaction.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..clock import parse_time
from ..errors import AlreadyRegistered, InvalidArgument, NotFound
from .roles import STAFF_ROLES, Role, StaffAccount

if TYPE_CHECKING:
    from ..audit.integrity import RowGuard
    from ..crypto.keyring import KeyRing
    from ..storage.connection import Connection

__all__ = ["LOCKOUT_SECONDS", "MAX_FAILURES", "MIN_PASSWORD", "TOTP_STEP", "NewAccount",
           "SignInState", "accept_step", "account_kek_ids", "check_password", "find_account",
           "get_account", "hash_password", "insert_account", "list_accounts", "matching_step",
           "open_totp", "provisioning_uri", "record_failure", "rewrap_totp_secrets",
           "set_disabled", "sign_in_state"]

#: Failed sign-ins in a row before the account is locked.
MAX_FAILURES: Final = 5
#: How long a locked account stays locked, in seconds.
LOCKOUT_SECONDS: Final = 900
#: The TOTP time step, in seconds (RFC 6238's default, what authenticator apps use).
TOTP_STEP: Final = 30
#: The shortest password accepted.
MIN_PASSWORD: Final = 12

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HASHER: Final = PasswordHasher()
_COLUMNS = ("id, name, display_name, role, purposes, sites, password_hash, created_by, "
            "created_at, disabled_at")
_TAGGED = _COLUMNS + ", mac"


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account as made: the only time its TOTP secret is seen."""

    account: StaffAccount
    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class SignInState:
    """What a sign-in needs besides the tagged row: the last accepted TOTP step and the
    lockout."""

    totp_step: int
    failures: int
    locked_until: float


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are in the hash)."""
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise InvalidArgument(f"a password needs {MIN_PASSWORD} to 1024 characters",
                              details={"min": MIN_PASSWORD})
    return _HASHER.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (never raises for a wrong one)."""
    try:
        return _HASHER.verify(stored_hash, password[:1024])
    except (VerificationError, InvalidHashError):
        return False


def provisioning_uri(account: StaffAccount, secret: str, *, issuer: str = "facegate") -> str:
    """The ``otpauth://`` URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret, interval=TOTP_STEP).provisioning_uri(name=account.name,
                                                                   issuer_name=issuer)


def matching_step(secret: str, code: str, *, now: float) -> int | None:
    """The time step whose code ``code`` is, within one step either side of ``now``
    (clock drift), or ``None``."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    found = None
    for offset in (-1, 0, 1):
        at = now + offset * TOTP_STEP
        if hmac.compare_digest(totp.at(at), code):
            found = int(at // TOTP_STEP)
    return found


def _scope(values: frozenset[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def _unscope(text: object) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(str(text)))


def _label(account_id: str) -> str:
    return f"staff-account:{account_id}"


def _account(row: tuple[Any, ...]) -> StaffAccount:
    return StaffAccount(id=str(row[0]), name=str(row[1]), label=str(row[2]),
                        role=Role(str(row[3])), purposes=_unscope(row[4]),
                        sites=_unscope(row[5]), subject_id=None, created_by=str(row[7]),
                        created_at=parse_time(str(row[8])),
                        revoked_at=parse_time(str(row[9])) if row[9] else None)


def _checked(guard: RowGuard, row: Any) -> tuple[StaffAccount, str]:
    """The account in a row read with ``_TAGGED`` and its password hash, once its tag
    verifies.

    Raises:
        StoreTampered: the row was written or changed without the key file.
    """
    values = tuple(row)
    guard.check("staff_accounts", values)
    return _account(values), str(values[6])


def insert_account(conn: Connection, *, guard: RowGuard, ring: KeyRing, name: str,
                   display_name: str, role: Role | str, password: str,
                   purposes: frozenset[str] | None, sites: frozenset[str] | None,
                   created_by: str, now: datetime) -> NewAccount:
    """Store a new account; its TOTP secret is returned once and kept only sealed.

    Raises:
        InvalidArgument: a bad name, display name, role or password.
        AlreadyRegistered: the name is taken.
    """
    if not _NAME.match(name):
        raise InvalidArgument("an account name is 1 to 64 lowercase letters, digits, '.', "
                              "'_' or '-', starting with a letter or digit",
                              details={"name": name[:80]})
    if not display_name.strip() or len(display_name) > 200:
        raise InvalidArgument("an account needs a display name of 1 to 200 characters")
    held = next((r for r in STAFF_ROLES if r.value == str(role)), None)
    if held is None:
        raise InvalidArgument("a staff account's role is admin, auditor, reviewer or operator",
                              details={"roles": [r.value for r in STAFF_ROLES]})
    if conn.execute("SELECT 1 FROM staff_accounts WHERE name = ?", (name,)).fetchone():
        raise AlreadyRegistered(f"there is already an account {name!r}",
                                details={"account": name})
    password_hash = hash_password(password)
    account = StaffAccount(id="s_" + secrets.token_hex(6), name=name,
                           label=display_name.strip(), role=held, purposes=purposes,
                           sites=sites, subject_id=None, created_by=created_by, created_at=now)
    secret = pyotp.random_base32()
    kek, sealed = ring.wrap(secret.encode("ascii"), subject_id=_label(account.id))
    conn.execute(f"INSERT INTO staff_accounts ({_COLUMNS}, kek_id, totp_sealed) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (account.id, name, account.label, held.value, _scope(purposes),
                  _scope(sites), password_hash, created_by, now.isoformat(), None, kek, sealed))
    guard.tag("staff_accounts", account.id)
    return NewAccount(account=account, totp_secret=secret,
                      provisioning_uri=provisioning_uri(account, secret))


def find_account(conn: Connection, *, guard: RowGuard,
                 name: str) -> tuple[StaffAccount, str] | None:
    """The account named ``name`` and its password hash, or ``None``."""
    row = conn.execute(f"SELECT {_TAGGED} FROM staff_accounts WHERE name = ?",
                       (name,)).fetchone()
    return None if row is None else _checked(guard, row)


def get_account(conn: Connection, *, guard: RowGuard, account: str) -> StaffAccount:
    """The account with this id or name.

    Raises:
        NotFound: no such account.
    """
    row = conn.execute(f"SELECT {_TAGGED} FROM staff_accounts WHERE id = ? OR name = ?",
                       (account, account)).fetchone()
    if row is None:
        raise NotFound(f"no staff account {account!r}", details={"account": account})
    return _checked(guard, row)[0]


def list_accounts(conn: Connection, *, guard: RowGuard) -> list[StaffAccount]:
    rows = conn.execute(f"SELECT {_TAGGED} FROM staff_accounts ORDER BY name").fetchall()
    return [_checked(guard, r)[0] for r in rows]


def set_disabled(conn: Connection, *, guard: RowGuard, account: str,
                 at: datetime | None) -> StaffAccount:
    """Disable (``at``) or enable (``None``) an account; its row is re-tagged."""
    found = get_account(conn, guard=guard, account=account)
    old = conn.execute(f"SELECT {_TAGGED} FROM staff_accounts WHERE id = ?",
                       (found.id,)).fetchone()
    if (found.revoked_at is None) != (at is None):
        conn.execute("UPDATE staff_accounts SET disabled_at = ?, failures = 0, "
                     "locked_until = 0 WHERE id = ?",
                     (at.isoformat() if at else None, found.id))
        guard.retag("staff_accounts", found.id, tuple(old))
    return get_account(conn, guard=guard, account=found.id)


def open_totp(conn: Connection, *, ring: KeyRing, account_id: str) -> str:
    """The account's TOTP secret, unsealed.

    Raises:
        CryptoInvalid: the sealed secret was altered or moved from another account's row.
    """
    row = conn.execute("SELECT kek_id, totp_sealed FROM staff_accounts WHERE id = ?",
                       (account_id,)).fetchone()
    if row is None:
        raise NotFound(f"no staff account {account_id!r}", details={"account": account_id})
    return ring.unwrap(bytes(row[1]), kek=str(row[0]),
                       subject_id=_label(account_id)).decode("ascii")


def sign_in_state(conn: Connection, *, account_id: str) -> SignInState:
    row = conn.execute("SELECT totp_step, failures, locked_until FROM staff_accounts "
                       "WHERE id = ?", (account_id,)).fetchone()
    return SignInState(totp_step=int(row[0]), failures=int(row[1]),
                       locked_until=float(row[2]))


def record_failure(conn: Connection, *, account_id: str, now: float) -> SignInState:
    """Count a failed sign-in; the :data:`MAX_FAILURES`-th in a row locks the account."""
    state = sign_in_state(conn, account_id=account_id)
    failures = state.failures + 1
    locked = now + LOCKOUT_SECONDS if failures >= MAX_FAILURES else state.locked_until
    conn.execute("UPDATE staff_accounts SET failures = ?, locked_until = ? WHERE id = ?",
                 (0 if failures >= MAX_FAILURES else failures, locked, account_id))
    return SignInState(totp_step=state.totp_step, failures=failures, locked_until=locked)


def accept_step(conn: Connection, *, account_id: str, step: int) -> bool:
    """Spend TOTP step ``step`` and clear the failure count; ``False`` (nothing changed)
    when that step or a later one was already spent: a code is never accepted twice."""
    return conn.execute("UPDATE staff_accounts SET totp_step = ?, failures = 0, "
                        "locked_until = 0 WHERE id = ? AND totp_step < ?",
                        (step, account_id, step)).rowcount == 1


def account_kek_ids(conn: Connection) -> set[str]:
    """KEKs that seal an account's TOTP secret."""
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT kek_id FROM staff_accounts")}


def rewrap_totp_secrets(conn: Connection, *, ring: KeyRing) -> int:
    """Re-seal every TOTP secret not under ``ring.active``; returns how many. (The sealed
    secret is bound to the account's id, not tagged, so its row keeps its tag.)"""
    rows = conn.execute("SELECT id, kek_id, totp_sealed FROM staff_accounts WHERE "
                        "kek_id != ?", (ring.active,)).fetchall()
    for account_id, kek, sealed in rows:
        raw = ring.unwrap(bytes(sealed), kek=str(kek), subject_id=_label(str(account_id)))
        new_kek, new_sealed = ring.wrap(raw, subject_id=_label(str(account_id)))
        conn.execute("UPDATE staff_accounts SET kek_id = ?, totp_sealed = ? WHERE id = ?",
                     (new_kek, new_sealed, account_id))
    return len(rows)
