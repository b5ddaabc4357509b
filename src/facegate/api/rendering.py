"""Documents off the request path: a pool of separate, low-priority processes.

An impact assessment or a compliance summary is built from the whole audit log
(every entry of its purpose, and the chain checked entry by entry), and
WeasyPrint holds Python's global interpreter lock while it lays out the PDF (a
Chinese impact assessment takes seconds). Done in a thread of the service
process, either would stall every other request of that process, verifies
included. The service therefore gathers and renders each document in a
:class:`ReportPool`: ``report_workers`` processes (spawned, not forked, so no
thread or store connection is inherited) that lower their own CPU priority to
the least (``nice`` 19, and Linux's ``SCHED_IDLE``) first, and open the store
themselves. The request
that asked waits for its document; every other request goes on. The document's
generation is still recorded in the audit log by the service process, as the
library does (:meth:`facegate.deployment.Deployment.report`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from ..deployment import Deployment
from ..deployment.reports import ReportJob
from ..reports.models import Document

if TYPE_CHECKING:
    from .metrics import Metrics

__all__ = ["ReportPool"]

#: In each pool process: the deployment it opened, by (store, key file).
_OPENED: dict[tuple[str, str | None], Deployment] = {}


def _lowest_priority() -> None:
    """Runs first in each pool process: give way to everything else on the machine (the
    least CPU priority, ``nice`` 19, and on Linux the ``SCHED_IDLE`` policy: the process
    runs only on a CPU nothing else wants)."""
    os.nice(19)
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        with contextlib.suppress(OSError):  # a container may forbid it; nice 19 stays
            os.sched_setscheduler(0, idle, os.sched_param(0))


def _build(target: str, keys: str | None, job: ReportJob) -> Document:
    """In a pool process: gather and render ``job`` from the store (opened once)."""
    d = _OPENED.get((target, keys))
    if d is None:
        d = _OPENED[(target, keys)] = Deployment.open(target, keys=keys)
    return d.build_document(job)


class ReportPool:
    """Separate low-priority processes that gather and render documents.

    Args:
        target: the store (an SQLite path or a PostgreSQL URL).
        keys: the key file (``None``: the keys come from the environment).
        workers: processes (documents built at once).
        metrics: where queue depth and build time go (optional).
    """

    def __init__(self, target: str, keys: str | None, workers: int,
                 metrics: Metrics | None = None) -> None:
        self._target = target
        self._keys = keys
        self._workers = workers
        self._metrics = metrics
        self._lock = threading.Lock()
        self._depth = 0
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._workers,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_lowest_priority)

    def _count(self, step: int) -> None:
        with self._lock:
            self._depth += step
            depth = self._depth
        if self._metrics is not None:
            self._metrics.waiting("reports", depth)

    def build(self, job: ReportJob) -> Document:
        """Gather and render ``job`` in a pool process; blocks the calling thread only."""
        self._count(1)
        started = time.perf_counter()
        try:
            try:
                return self._executor.submit(_build, self._target, self._keys, job).result()
            except BrokenProcessPool:  # a pool process died: start new ones, once
                with self._lock:
                    self._executor = self._start()
                return self._executor.submit(_build, self._target, self._keys, job).result()
        finally:
            self._count(-1)
            if self._metrics is not None:
                self._metrics.timed("report", job.fmt, time.perf_counter() - started)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
