"""The one deployment a service process holds, and the lock its calls take.

A :class:`~facegate.deployment.Deployment` owns one database connection and
in-memory gallery indexes; calls are made one at a time under :attr:`Service.lock`
from FastAPI's worker threads. Several processes may share one store (SQLite
file or PostgreSQL); each notices the others' writes (see ``docs/matching.md``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..deployment import Deployment
from ..errors import RateLimited

__all__ = ["RateLimiter", "Service"]

T = TypeVar("T")


class Service:
    """A deployment and its lock."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.lock = threading.Lock()

    def call(self, fn: Callable[[Deployment], T]) -> T:
        """Run ``fn(deployment)`` alone."""
        with self.lock:
            return fn(self.deployment)


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> None:
        """Spend one request of ``caller``'s allowance.

        Raises:
            RateLimited: none left; ``details.retry_after`` says when one will be.
        """
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(caller, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                raise RateLimited("too many requests; slow down",
                                  details={"retry_after": max(1, round((1.0 - tokens) / rate))})
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
