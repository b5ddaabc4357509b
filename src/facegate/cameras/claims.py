"""The claimed identities a verification camera waits on: one per person stepping up.

A verification camera (mode ``verify``) decides nobody by itself. A card reader, a PIN
pad or a guard names who is about to pass (a *claim*: the subject and the purpose),
valid for a short window. The first confirmed track with a shot good enough to decide
takes the oldest live claim (the largest face first: the person at the reader), is
compared 1:1 with that subject only, and the claim is used up by that one decision,
match or not. A claim no face took within its window expires. A track that ends before
its decision gives its claim back, if the claim is still live.

:class:`Claims` holds them for one stream session: bounded (the oldest unbound claim
gives way to a new one past ``limit``, and is reported as expired), thread-safe (the
service's request threads add, the camera's thread takes), and holding nothing but
pseudonymous ids and times.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..errors import InvalidArgument

__all__ = ["MAX_WINDOW", "MIN_WINDOW", "Claim", "Claims", "check_window"]

#: The shortest and longest a claim may wait for a face, in seconds.
MIN_WINDOW: Final = 0.5
MAX_WINDOW: Final = 60.0


def check_window(window: float) -> float:
    """``window`` if it lies in [``MIN_WINDOW``, ``MAX_WINDOW``] seconds, else
    ``InvalidArgument``."""
    if not MIN_WINDOW <= window <= MAX_WINDOW:  # also refuses NaN
        raise InvalidArgument(
            f"a claim waits {MIN_WINDOW:g} to {MAX_WINDOW:g} seconds for a face",
            details={"window": str(window)[:40]})
    return window


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed identity: its id, the subject (pseudonymous id) and purpose, who made it,
    and when it was made and stops being valid (``time.monotonic()``)."""

    id: str
    subject_id: str
    purpose_key: str
    operator: str
    made_at: float
    expires_at: float

    @staticmethod
    def new(*, subject_id: str, purpose_key: str, operator: str, window: float,
            now: float) -> Claim:
        return Claim(id=f"clm_{uuid.uuid4().hex[:16]}", subject_id=subject_id,
                     purpose_key=purpose_key, operator=operator, made_at=now,
                     expires_at=now + check_window(window))


class Claims:
    """The claims of one stream session (see the module docstring)."""

    def __init__(self, limit: int = 8, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = max(1, limit)
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: list[Claim] = []
        self._held: dict[int, Claim] = {}
        self._pushed_out: list[Claim] = []

    def add(self, claim: Claim) -> None:
        """Queue ``claim``; past the limit the oldest waiting claim gives way (it is
        returned by the next :meth:`expired`)."""
        with self._lock:
            self._waiting.append(claim)
            while len(self._waiting) > self._limit:
                self._pushed_out.append(self._waiting.pop(0))

    def live(self) -> bool:
        """Whether a claim waits for a face now."""
        now = self._clock()
        with self._lock:
            return any(c.expires_at > now for c in self._waiting)

    def held(self, track: int) -> Claim | None:
        with self._lock:
            return self._held.get(track)

    def take(self, track: int) -> Claim | None:
        """The claim ``track`` holds, else the oldest live waiting claim, now held by it."""
        now = self._clock()
        with self._lock:
            if track in self._held:
                return self._held[track]
            for i, c in enumerate(self._waiting):
                if c.expires_at > now:
                    self._held[track] = self._waiting.pop(i)
                    return self._held[track]
            return None

    def used(self, track: int) -> Claim | None:
        """The claim ``track`` held is used up by its decision."""
        with self._lock:
            return self._held.pop(track, None)

    def give_back(self, track: int) -> None:
        """``track`` ended undecided: its claim waits again (until its window ends)."""
        with self._lock:
            claim = self._held.pop(track, None)
            if claim is not None:
                self._waiting.insert(0, claim)

    def expired(self, *, everything: bool = False) -> list[Claim]:
        """The waiting claims whose window has ended (every waiting and held one with
        ``everything``: the session ends), removed, oldest first."""
        now = self._clock()
        with self._lock:
            out, self._pushed_out = self._pushed_out, []
            if everything:
                out += self._waiting + list(self._held.values())
                self._waiting, self._held = [], {}
            else:
                out += [c for c in self._waiting if c.expires_at <= now]
                self._waiting = [c for c in self._waiting if c.expires_at > now]
        return out
