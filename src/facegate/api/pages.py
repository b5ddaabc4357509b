"""Cursor pagination: an opaque cursor names the last item of a page.

A list endpoint answers ``limit`` items in a stable order (the time an item was
made, then its id) and ``next_cursor``, which the client passes back as
``cursor`` for the page after; ``null`` on the last page. A cursor is the last
item's sort key, base64url-encoded JSON: opaque to clients, but it holds no
more than the items themselves show. ``since`` keeps items made at or after a
time, so an integrator can fetch only what is new.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ..errors import RequestError

__all__ = ["Cursor", "page", "utc"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a list: the sort key of the last item already seen."""

    key: tuple[str, ...]

    def text(self) -> str:
        raw = json.dumps(list(self.key), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def of(cls, *key: str) -> str:
        return cls(tuple(key)).text()

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor a client sent back.

        Raises:
            RequestError: not a cursor this service made.
        """
        if text is None:
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError):
            value = None
        if not isinstance(value, list) or not value or not all(isinstance(v, str)
                                                               for v in value):
            raise RequestError("not a valid cursor; pass next_cursor back unchanged",
                               details={"errors": [{"at": "cursor", "problem": "invalid"}]})
        return cls(tuple(value))


def utc(when: datetime | None) -> datetime | None:
    """A time from a query, in UTC (a time without an offset is taken as UTC)."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def page(items: Sequence[T], *, key: Callable[[T], tuple[str, ...]], cursor: Cursor | None,
         since: datetime | None, at: Callable[[T], datetime],
         limit: int) -> tuple[list[T], str | None]:
    """One page of ``items`` (in memory; for small lists such as keys), ordered by
    ``key``: those after ``cursor`` and made at or after ``since``."""
    since = utc(since)
    ordered = sorted(items, key=key)
    kept = [i for i in ordered if (cursor is None or key(i) > cursor.key)
            and (since is None or at(i) >= since)]
    found = kept[:limit]
    more = len(kept) > limit
    return found, (Cursor(key(found[-1])).text() if more and found else None)
