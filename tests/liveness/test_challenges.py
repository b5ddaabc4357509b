"""Challenges: random, distinct actions; fresh nonces; a short expiry."""

from __future__ import annotations

import random

from facegate.liveness.challenges import CHALLENGE_TTL, Action, new_challenge

from ..support.governed import START


def test_challenges_ask_two_or_three_distinct_actions_in_random_orders() -> None:
    rng = random.Random(10)
    made = [new_challenge(purpose_key="p", site_key="s", now=START, rng=rng) for _ in range(200)]
    assert all(len(set(c.actions)) == len(c.actions) in (2, 3) for c in made)
    assert all(set(c.actions) <= set(Action) for c in made)
    assert len({c.actions for c in made}) == 12  # every order of 2 and of 3 actions occurs
    assert len({c.nonce for c in made}) == 200 and len({c.id for c in made}) == 200
    assert all(c.expires_at - c.issued_at == CHALLENGE_TTL for c in made)


def test_a_challenge_is_bound_to_its_purpose_and_site() -> None:
    c = new_challenge(purpose_key="access.office.entry", site_key="hq.lobby", now=START)
    shown = c.as_dict()
    assert (shown["purpose"], shown["site"]) == ("access.office.entry", "hq.lobby")
    assert len(str(shown["nonce"])) == 32
