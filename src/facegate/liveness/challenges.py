"""Liveness challenges and receipts: issued, stored, and usable once.

A :class:`Challenge` asks the person in front of the camera for two or three
actions in a random order (``blink``, ``turn_left``, ``turn_right``), carries
a random nonce, is bound to one purpose and its site and expires after a short
time. The first answer marks it used, whatever the answer's outcome, so a
recorded answer cannot be replayed. A passed check leaves a :class:`Receipt`
that one enroll or verify of the same purpose may consume before it expires.

Randomness comes from :mod:`secrets` unless a caller injects a
:class:`random.Random` (tests). SQL functions are keyword-only and take the
connection; the caller owns the transaction.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from ..clock import parse_time
from ..errors import ChallengeExpired, ChallengeUnknown, ChallengeUsed, InvalidArgument

if TYPE_CHECKING:  # the protocol only: policy and the CLI import this module, not the store
    from ..storage.connection import Connection

__all__ = [
    "CHALLENGE_TTL",
    "RECEIPT_TTL",
    "Action",
    "Challenge",
    "Receipt",
    "consume_receipt",
    "get_challenge",
    "insert_challenge",
    "insert_receipt",
    "new_challenge",
    "new_receipt",
    "use_challenge",
]

#: How long a challenge may be answered after it is issued.
CHALLENGE_TTL: Final = timedelta(seconds=30)
#: How long a passed check may be used by one enroll or verify.
RECEIPT_TTL: Final = timedelta(seconds=120)


class Action(StrEnum):
    """What the person is asked to do. Turns are named in image coordinates.

    ``turn_left``: the nose moves towards the left edge of the frame as the
    camera records it (unmirrored), i.e. the person turns to their own right.
    """

    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


@dataclass(frozen=True, slots=True)
class Challenge:
    """One issued challenge.

    Args:
        id: public id (``lc_`` and 16 hex digits).
        nonce: 128 random bits, hex; the client echoes it with its answer.
        purpose_key: the purpose it was issued for.
        site_key: that purpose's site.
        actions: what to do, in this order.
        issued_at: when.
        expires_at: answers arriving later are refused.
        used_at: when it was answered; ``None`` while unused.
    """

    id: str
    nonce: str
    purpose_key: str
    site_key: str
    actions: tuple[Action, ...]
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        """What the client needs: id, nonce, purpose, site, actions, times."""
        return {"challenge": self.id, "nonce": self.nonce, "purpose": self.purpose_key,
                "site": self.site_key, "actions": [a.value for a in self.actions],
                "issued_at": self.issued_at.isoformat(),
                "expires_at": self.expires_at.isoformat()}


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of a passed check, for one enroll or verify of ``purpose_key``."""

    id: str
    challenge_id: str
    purpose_key: str
    issued_at: datetime
    expires_at: datetime


def new_challenge(*, purpose_key: str, site_key: str, now: datetime,
                  ttl: timedelta = CHALLENGE_TTL, rng: random.Random | None = None) -> Challenge:
    """A fresh challenge: two or three distinct actions in a random order.

    ``rng`` defaults to :class:`secrets.SystemRandom`; the nonce always comes
    from :func:`secrets.token_hex`.
    """
    if ttl <= timedelta(0):
        raise InvalidArgument("a challenge's lifetime must be positive")
    pick = rng or secrets.SystemRandom()
    count = pick.choice((2, 3))
    actions = tuple(pick.sample(list(Action), count))
    return Challenge(id="lc_" + secrets.token_hex(8), nonce=secrets.token_hex(16),
                     purpose_key=purpose_key, site_key=site_key, actions=actions,
                     issued_at=now, expires_at=now + ttl)


def new_receipt(challenge: Challenge, *, now: datetime, ttl: timedelta = RECEIPT_TTL) -> Receipt:
    """A receipt for a passed answer to ``challenge``."""
    return Receipt(id="lr_" + secrets.token_hex(16), challenge_id=challenge.id,
                   purpose_key=challenge.purpose_key, issued_at=now, expires_at=now + ttl)


def insert_challenge(conn: Connection, *, challenge: Challenge) -> None:
    conn.execute(
        "INSERT INTO liveness_challenges (id, nonce, purpose_key, site_key, actions, issued_at, "
        "expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        (challenge.id, challenge.nonce, challenge.purpose_key, challenge.site_key,
         json.dumps([a.value for a in challenge.actions]), challenge.issued_at.isoformat(),
         challenge.expires_at.isoformat()))


def get_challenge(conn: Connection, *, id: str) -> Challenge | None:
    row = conn.execute(
        "SELECT id, nonce, purpose_key, site_key, actions, issued_at, expires_at, used_at "
        "FROM liveness_challenges WHERE id = ?", (id,)).fetchone()
    if row is None:
        return None
    return Challenge(id=row[0], nonce=row[1], purpose_key=row[2], site_key=row[3],
                     actions=tuple(Action(a) for a in json.loads(row[4])),
                     issued_at=parse_time(row[5]), expires_at=parse_time(row[6]),
                     used_at=parse_time(row[7]) if row[7] else None)


def use_challenge(conn: Connection, *, id: str, nonce: str | None,
                  now: datetime) -> Challenge:
    """Mark the challenge used by this answer, or refuse.

    Raises:
        ChallengeUnknown: no such challenge, or the nonce does not match it.
        ChallengeUsed: it was answered before (a replay).
        ChallengeExpired: the answer came after its expiry.
    """
    challenge = get_challenge(conn, id=id)
    if challenge is None or (nonce is not None and not secrets.compare_digest(
            nonce.encode(), challenge.nonce.encode())):
        raise ChallengeUnknown(f"no liveness challenge {id!r} with that nonce was issued",
                               details={"challenge": id})
    if challenge.used_at is not None:
        raise ChallengeUsed(f"liveness challenge {id} was already answered at "
                            f"{challenge.used_at.isoformat()}; ask for a new one",
                            details={"challenge": id})
    if now > challenge.expires_at:
        raise ChallengeExpired(f"liveness challenge {id} expired at "
                               f"{challenge.expires_at.isoformat()}; ask for a new one",
                               details={"challenge": id})
    cur = conn.execute("UPDATE liveness_challenges SET used_at = ? "
                       "WHERE id = ? AND used_at IS NULL", (now.isoformat(), id))
    if cur.rowcount != 1:
        raise ChallengeUsed(f"liveness challenge {id} was already answered",
                            details={"challenge": id})
    return challenge


def insert_receipt(conn: Connection, *, receipt: Receipt) -> None:
    conn.execute(
        "INSERT INTO liveness_receipts (id, challenge_id, purpose_key, issued_at, expires_at, "
        "used_at, used_for) VALUES (?, ?, ?, ?, ?, NULL, NULL)",
        (receipt.id, receipt.challenge_id, receipt.purpose_key, receipt.issued_at.isoformat(),
         receipt.expires_at.isoformat()))


def consume_receipt(conn: Connection, *, id: str, purpose_key: str, now: datetime,
                    used_for: str, consume: bool = True) -> str | None:
    """Use receipt ``id`` for one operation of ``purpose_key``.

    Returns ``None`` when it is consumed (or, with ``consume=False``, when it could be
    now: a read-only look before the engine runs), otherwise why it cannot be used
    (``unknown``, ``other_purpose``, ``used``, ``expired``); the policy rule
    turns that into a refusal.
    """
    row = conn.execute("SELECT purpose_key, expires_at, used_at FROM liveness_receipts "
                       "WHERE id = ?", (id,)).fetchone()
    if row is None:
        return "unknown"
    if row[0] != purpose_key:
        return "other_purpose"
    if row[2] is not None:
        return "used"
    if now > parse_time(row[1]):
        return "expired"
    if not consume:
        return None
    cur = conn.execute("UPDATE liveness_receipts SET used_at = ?, used_for = ? "
                       "WHERE id = ? AND used_at IS NULL", (now.isoformat(), used_for, id))
    return None if cur.rowcount == 1 else "used"
