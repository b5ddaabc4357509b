"""Sending one webhook delivery over HTTP (httpx), and the retry schedule.

:func:`send` posts the event's body with its id, type and signature headers
(:mod:`facegate.events.signing`) and says whether the receiver took it (any 2xx)
and what happened. :func:`next_attempt` is the exponential backoff: the first
retry after ``base`` seconds, each next one twice as late, at most ``cap``, with
up to a fifth of random jitter so that a receiver coming back is not hit by
every sender at once; after ``attempts`` tries it gives up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

import httpx

from .signing import SIGNATURE_HEADER, signature_header

__all__ = ["USER_AGENT", "Delivery", "next_attempt", "send"]

USER_AGENT: Final = "facegate-webhooks/1"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row, claimed for sending, with what sending needs."""

    id: int
    endpoint_id: str
    url: str
    secret: bytes
    event_id: str
    event_type: str
    body: bytes
    attempts: int


def send(client: httpx.Client, delivery: Delivery) -> tuple[bool, str]:
    """POST ``delivery``; whether a 2xx came back, and the status (or the failure)."""
    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               "facegate-event-id": delivery.event_id,
               "facegate-event-type": delivery.event_type,
               SIGNATURE_HEADER.lower(): signature_header(delivery.secret, delivery.body)}
    try:
        response = client.post(delivery.url, content=delivery.body, headers=headers)
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return 200 <= response.status_code < 300, str(response.status_code)


def next_attempt(attempts: int, *, now: float, base: float, cap: float, limit: int,
                 rng: random.Random | None = None) -> float | None:
    """When to try again after ``attempts`` failed tries (unix time), or ``None`` when
    ``attempts`` reached ``limit``."""
    if attempts >= limit:
        return None
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    jitter = float((rng or random.Random()).random())
    return now + delay * (1.0 + 0.2 * jitter)
