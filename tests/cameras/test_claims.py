"""The claimed identities a verification camera waits on: oldest first, one track each,
expired after their window, bounded, given back by a track that ended undecided."""

from __future__ import annotations

import pytest

from facegate.cameras.claims import Claim, Claims
from facegate.errors import InvalidArgument


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _claim(clock: _Clock, subject: str, window: float = 10.0) -> Claim:
    return Claim.new(subject_id=subject, purpose_key="door.a", operator="reader:1",
                     window=window, now=clock.now)


def test_claims_are_taken_oldest_first_once_and_expire() -> None:
    clock = _Clock()
    claims = Claims(limit=2, clock=clock)
    assert not claims.live() and claims.take(1) is None
    first, second = _claim(clock, "s_1"), _claim(clock, "s_2", window=1.0)
    claims.add(first)
    claims.add(second)
    assert claims.take(7) == first and claims.take(7) == first  # the track keeps its claim
    assert claims.used(7) == first and claims.held(7) is None
    clock.now += 1.5
    assert not claims.live() and claims.take(8) is None
    assert claims.expired() == [second] and claims.expired() == []


def test_a_track_that_ends_undecided_gives_its_claim_back_and_the_queue_is_bounded() -> None:
    clock = _Clock()
    claims = Claims(limit=2, clock=clock)
    a, b, c = _claim(clock, "s_a"), _claim(clock, "s_b"), _claim(clock, "s_c")
    claims.add(a)
    assert claims.take(3) == a
    claims.give_back(3)
    assert claims.take(4) == a  # it waits again, first in line
    claims.add(b)
    claims.add(c)
    claims.add(_claim(clock, "s_d"))  # past the limit: the oldest waiting gives way
    assert claims.expired() == [b]
    assert [x.subject_id for x in claims.expired(everything=True)] == ["s_c", "s_d", "s_a"]


@pytest.mark.parametrize("window", [0.1, 61.0, float("nan")])
def test_a_window_outside_half_a_second_to_a_minute_is_refused(window: float) -> None:
    with pytest.raises(InvalidArgument):
        _claim(_Clock(), "s_1", window=window)
