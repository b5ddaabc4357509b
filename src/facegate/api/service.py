"""The one deployment a service process holds, and the rate limits it shares with the others.

A :class:`~facegate.deployment.Deployment` may be called from many threads at
once: each thread has its own store connection, the engine runs in a bounded
pool sized to the cores, and writes keep their guarantees through the store's
own locking (SQLite's single writer, PostgreSQL's advisory lock and row locks).
So :class:`Service` takes no lock: requests run side by side on FastAPI's
worker threads. Several processes may serve one store (``facegate serve
--workers N``, or several machines on one PostgreSQL); what must be shared
between them lives in the store: sessions, rate buckets, idempotent
responses, liveness challenges (see ``docs/api.md``, "Concurrency").
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..deployment import Deployment
from ..errors import RateLimited

__all__ = ["RateLimiter", "Service"]

T = TypeVar("T")


class Service:
    """The deployment this process serves."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def call(self, fn: Callable[[Deployment], T]) -> T:
        """Run ``fn(deployment)`` (on the calling thread, beside any others)."""
        return fn(self.deployment)


class RateLimiter:
    """A token bucket per caller, kept in the store, so every process of the deployment
    draws on one allowance: ``per_minute`` requests, refilled continuously.

    Args:
        deployment: where the buckets are (asked at each request: the deployment is
            opened when the service starts).
        per_minute: the allowance.
        kind: the buckets' prefix (``key`` for API keys, ``client`` for addresses, which
            are stored only as a hash).
    """

    def __init__(self, deployment: Callable[[], Deployment], per_minute: int, *,
                 kind: str) -> None:
        self.per_minute = per_minute
        self._deployment = deployment
        self._kind = kind
        #: callers refused until then (monotonic): no process can refill a bucket sooner,
        #: so a flood of refused requests is answered here without writing to the store
        self._refused: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> None:
        """Spend one request of ``caller``'s allowance.

        Raises:
            RateLimited: none left; ``details.retry_after`` says when one will be.
        """
        name = caller if self._kind == "key" else hashlib.sha256(caller.encode()).hexdigest()[:32]
        now = time.monotonic()
        with self._lock:
            until = self._refused.get(name)
        if until is not None and now < until:
            raise RateLimited("too many requests; slow down",
                              details={"retry_after": max(1, round(until - now))})
        wait = self._deployment().spend_rate(f"{self._kind}:{name}", per_minute=self.per_minute)
        if wait is not None:
            with self._lock:
                if len(self._refused) > 10_000:
                    self._refused = {k: v for k, v in self._refused.items() if v > now}
                self._refused[name] = now + wait
            raise RateLimited("too many requests; slow down",
                              details={"retry_after": max(1, round(wait))})
