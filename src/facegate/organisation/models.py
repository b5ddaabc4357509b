"""The processor and its capture sites, in the regulation's nouns.

What a person reads of them (the processor's name, contact, province and declared
security measures, a site's name) is a :class:`~facegate.texts.Text`, per language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from ..errors import InvalidArgument
from ..texts import Text

__all__ = ["PRIVATE_SPACE_TYPES", "Processor", "Site", "SiteType", "check_site_key"]

_SITE_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*")


def check_site_key(key: str) -> str:
    """Return ``key`` if it is dotted lowercase words or numbers (``hq.lobby``,
    ``branch-2.gate``), at most 100 characters; else raise ``InvalidArgument``. No
    control, line-breaking or direction-changing character gets into a key, which
    appears in scopes, logs, documents and the audit log."""
    if len(key) > 100 or not _SITE_KEY.fullmatch(key):
        raise InvalidArgument(
            f"site key {key!r} must be dotted lowercase words or numbers, like hq.lobby",
            details={"site": key.encode("unicode_escape").decode()[:200]})
    return key


class SiteType(StrEnum):
    """What kind of place a capture site is.

    The last four are private spaces where CN Art. 13 forbids capture devices;
    they exist in the vocabulary only so that registering one is refused with
    the rule that forbids it (R12).
    """

    OFFICE = "office"
    BUILDING_ENTRANCE = "building_entrance"
    RESIDENTIAL_ENTRANCE = "residential_entrance"
    BANK_BRANCH = "bank_branch"
    HOTEL_LOBBY = "hotel_lobby"
    STATION = "station"
    AIRPORT = "airport"
    SCHOOL = "school"
    RETAIL = "retail"
    PUBLIC_SQUARE = "public_square"
    HOTEL_ROOM = "hotel_room"
    BATHHOUSE = "bathhouse"
    CHANGING_ROOM = "changing_room"
    TOILET = "toilet"


#: Site types that cannot be registered (CN Art. 13, R12).
PRIVATE_SPACE_TYPES: Final = frozenset({SiteType.HOTEL_ROOM, SiteType.BATHHOUSE,
                                        SiteType.CHANGING_ROOM, SiteType.TOILET})


@dataclass(frozen=True, slots=True)
class Processor:
    """The personal-information processor running the deployment.

    Args:
        name: legal name, per language.
        contact: how to reach its personal-information contact (shown in notices),
            per language.
        credit_code: unified social credit code (or the local registration number).
        jurisdiction: key of the jurisdiction profile in force.
        province: where it is located; the filing goes to that province's
            cyberspace office (CN Art. 15). Per language; empty when not declared.
        security_measures: the measures declared in filings (CN Art. 14-15), per
            language; empty when not declared.
    """

    name: Text
    contact: Text
    credit_code: str
    jurisdiction: str
    province: Text
    security_measures: Text
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class Site:
    """A place where faces are captured.

    Args:
        key: stable identifier.
        name: what people call it, per language.
        site_type: what kind of place it is.
        public_place: whether the public can enter it.
        capture_zone: the area the cameras cover; required in public places (R13).
        signage_attested: someone attested that prominent signs are posted (R13).
    """

    key: str
    name: Text
    site_type: SiteType
    public_place: bool
    capture_zone: str | None
    signage_attested: bool
    registered_at: datetime
