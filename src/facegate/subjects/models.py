"""Subjects: the people whose faces are processed, known by pseudonymous ids.

facegate never needs a name. A subject has a random id, optionally the
deployer's own reference (a staff number), and a birth date or an age band so
the minors rule (R5) can be applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

__all__ = ["AgeBand", "Subject", "age_on", "is_minor"]


class AgeBand(StrEnum):
    """A declared age band, when the birth date is not collected."""

    UNDER_14 = "under_14"
    FROM_14_TO_15 = "14_15"
    FROM_16_TO_17 = "16_17"
    ADULT = "adult"


# The youngest age each band holds.
_BAND_MIN_AGE: Final = {AgeBand.UNDER_14: 0, AgeBand.FROM_14_TO_15: 14,
                        AgeBand.FROM_16_TO_17: 16, AgeBand.ADULT: 18}


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject.

    Args:
        id: pseudonymous id (``s_`` and 16 hex digits).
        external_ref: the deployer's own reference, if any.
        birth_date: date of birth, if collected.
        age_band: declared age band, if the birth date is not collected.
    """

    id: str
    external_ref: str | None
    birth_date: date | None
    age_band: AgeBand | None
    registered_at: datetime


def age_on(birth: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_minor(subject: Subject, *, minor_age: int | None, today: date) -> bool:
    """Whether a guardian must consent for ``subject`` under ``minor_age``.

    An age band that straddles ``minor_age`` counts as minor: when in doubt,
    ask the guardian.
    """
    if minor_age is None:
        return False
    if subject.birth_date is not None:
        return age_on(subject.birth_date, today) < minor_age
    if subject.age_band is None:
        return True
    return _BAND_MIN_AGE[subject.age_band] < minor_age
