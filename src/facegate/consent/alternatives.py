"""The non-biometric alternative (R7): the route offered, and outcomes recorded like matches.

Declining face recognition is never a failure. The gate answers with an
:class:`AlternativeRoute` naming the purpose's alternative methods, and the
operator records how the alternative check went with
:func:`insert_outcome`, so the books show both paths side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from ..clock import parse_time
from ..purposes.models import Alternative

if TYPE_CHECKING:  # the protocol only: policy and the CLI import this module, not the store
    from ..storage.connection import Connection

__all__ = [
    "AlternativeOutcome",
    "AlternativeResult",
    "AlternativeRoute",
    "forget_subject",
    "insert_outcome",
    "list_outcomes",
]


@dataclass(frozen=True, slots=True)
class AlternativeRoute:
    """The answer to someone who declines face recognition: use one of ``alternatives``
    (each with its key, under which its check is recorded, and its words per language)."""

    purpose_key: str
    alternatives: tuple[Alternative, ...]
    outcome: str = "route_to_alternative"


class AlternativeResult(StrEnum):
    """How an alternative check ended."""

    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True, slots=True)
class AlternativeOutcome:
    """One recorded alternative check."""

    id: int
    purpose_key: str
    subject_id: str | None
    method: str
    result: AlternativeResult
    operator: str
    recorded_at: datetime


def insert_outcome(conn: Connection, *, purpose_key: str, subject_id: str | None,
                   method: str, result: AlternativeResult, operator: str,
                   recorded_at: datetime) -> AlternativeOutcome:
    cur = conn.execute(
        "INSERT INTO alternative_outcomes (purpose_key, subject_id, method, outcome, operator, "
        "recorded_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (purpose_key, subject_id, method, result.value, operator, recorded_at.isoformat()))
    return AlternativeOutcome(id=int(cur.fetchone()[0]), purpose_key=purpose_key,
                              subject_id=subject_id,
                              method=method, result=result, operator=operator,
                              recorded_at=recorded_at)


def list_outcomes(conn: Connection, *, purpose_key: str) -> list[AlternativeOutcome]:
    return [AlternativeOutcome(id=int(r[0]), purpose_key=str(r[1]),
                               subject_id=None if r[2] is None else str(r[2]), method=str(r[3]),
                               result=AlternativeResult(r[4]), operator=str(r[5]),
                               recorded_at=parse_time(str(r[6])))
            for r in conn.execute(
                "SELECT id, purpose_key, subject_id, method, outcome, operator, recorded_at "
                "FROM alternative_outcomes WHERE purpose_key = ? ORDER BY id", (purpose_key,))]


def forget_subject(conn: Connection, *, subject_id: str) -> int:
    """Detach the subject from recorded alternative outcomes (erasure, R23); returns how many."""
    return conn.execute("UPDATE alternative_outcomes SET subject_id = NULL WHERE subject_id = ?",
                        (subject_id,)).rowcount
