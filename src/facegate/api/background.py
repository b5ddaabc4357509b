"""The service's background work: one daemon thread each, started and stopped with the app.

- **watcher**: wakes the others when another connection (another thread or process)
  commits to the store: SQLite's ``data_version`` every 50 ms, PostgreSQL's
  ``LISTEN``/``NOTIFY``; at the latest every ``follow_interval``.
- **follower**: brings this process's gallery indexes up to the store's change
  sequence (:meth:`~facegate.deployment.Deployment.refresh_galleries`), so that the
  work of applying another process's enrollment or erasure is done before the next
  identification needs it. (Identification itself is never stale: it applies every
  committed change under the writer lock before it searches.)
- **sender**: claims due webhook deliveries from the outbox, sends them, records
  each outcome, and retries failures with backoff
  (:mod:`facegate.events.delivery`).
- **inspector**: every ``integrity_interval`` the full check of the store
  (:meth:`~facegate.deployment.Deployment.check_store`): every protected row's tag
  against the signed checkpoint. A store found tampered is logged (its error code)
  and the process refuses every later write.
- **scheduler**: every ``sweep_interval`` the retention sweep, where this process
  takes the store's lease (one process of the deployment sweeps per interval),
  with the housekeeping of sessions, rate buckets, old gallery changes and
  finished deliveries.

A failure in a loop is logged (its error code, never data) and the loop goes on.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from ..errors import Error, StoreTampered
from ..events.delivery import next_attempt, send
from .settings import ApiSettings

if TYPE_CHECKING:
    from ..deployment import Deployment

__all__ = ["Background"]

log = logging.getLogger("facegate.api")


class Background:
    """The background threads of one service process.

    Args:
        deployment: the deployment served.
        settings: intervals and retry policy.
    """

    def __init__(self, deployment: Deployment, settings: ApiSettings) -> None:
        self._d = deployment
        self._settings = settings
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self.generation = 0
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        loops: list[tuple[str, Callable[[], None]]] = [
            ("watcher", self._watch), ("follower", self._follow), ("sender", self._send)]
        if self._settings.sweep_interval > 0:
            loops.append(("scheduler", self._schedule))
        if self._settings.integrity_interval > 0:
            loops.append(("inspector", self._inspect))
        for name, loop in loops:
            thread = threading.Thread(target=self._guarded, args=(name, loop),
                                      name=f"facegate-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=15)

    def _guarded(self, name: str, loop: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                loop()
                return
            except Error as exc:
                log.warning(json.dumps({"event": "background", "loop": name,
                                        "error": exc.code}))
            except Exception as exc:  # the loop must outlive any one failure
                log.warning(json.dumps({"event": "background", "loop": name,
                                        "error": type(exc).__name__}))
            self._stop.wait(1.0)

    def _bump(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait_change(self, seen: int, timeout: float) -> int:
        """Block until the store changed after generation ``seen`` (or ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != seen or self._stop.is_set(),
                                   timeout)
            return self.generation

    # -- the loops ----------------------------------------------------------------------

    def _watch(self) -> None:
        watcher = self._d.watch_changes()
        try:
            while not self._stop.is_set():
                watcher.wait(min(1.0, self._settings.follow_interval))
                self._bump()  # a commit, or the interval: the followers look either way
        finally:
            watcher.close()

    def _follow(self) -> None:
        seen = -1
        while not self._stop.is_set():
            seen = self.wait_change(seen, self._settings.follow_interval)
            if not self._stop.is_set():
                self._d.refresh_galleries()

    def _send(self) -> None:
        s = self._settings
        seen = -1
        with httpx.Client(timeout=s.webhook_timeout, follow_redirects=False) as client:
            while not self._stop.is_set():
                batch = self._d.claim_deliveries(limit=20, lease=max(60.0, 3 * s.webhook_timeout))
                for delivery in batch:
                    delivered, status = send(client, delivery)
                    retry = None if delivered else next_attempt(
                        delivery.attempts + 1, now=time.time(), base=s.webhook_retry_base,
                        cap=s.webhook_retry_cap, limit=s.webhook_attempts)
                    self._d.record_delivery(delivery, delivered=delivered, status=status,
                                            next_attempt=retry)
                if not batch:
                    seen = self.wait_change(seen, min(1.0, s.webhook_retry_base))

    def _inspect(self) -> None:
        interval = self._settings.integrity_interval
        while not self._stop.wait(interval):
            try:
                self._d.check_store()
            except StoreTampered as exc:
                log.error(json.dumps({"event": "integrity", "error": exc.code,
                                      "details": exc.details}, default=str))
                return  # the deployment refuses every write from now on

    def _schedule(self) -> None:
        interval = self._settings.sweep_interval
        # The first look comes soon after start: a deployment whose processes restart
        # more often than the interval still sweeps (the lease says whether it is due).
        delay = min(60.0, interval)
        while not self._stop.wait(delay):
            self._d.sweep_if_due(holder=self.holder, interval=interval)
            delay = min(60.0, interval)
