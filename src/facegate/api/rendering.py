"""Rendering documents off the request path: a pool of separate, low-priority processes.

WeasyPrint holds Python's global interpreter lock while it lays out a PDF (a
Chinese impact assessment takes seconds), so rendering in a thread of the
service process would stall every other request, verifies included. The
service therefore renders in a :class:`ReportPool`: ``report_workers``
processes (spawned, not forked, so no thread or store connection is
inherited) that lower their own CPU priority to the least (``os.nice(19)``)
before they start; the request that asked waits for its document, every other
request goes on. The records are still gathered and the generation audited in
the service process, in one transaction as the library does
(:meth:`facegate.deployment.Deployment.report`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..reports.models import Document, Format, ReportModel
from ..reports.render import render
from .metrics import Metrics

__all__ = ["ReportPool"]


def _lowest_priority() -> None:
    """Runs first in each rendering process: give way to everything else on the machine."""
    os.nice(19)


class ReportPool:
    """Separate low-priority processes that render documents.

    Args:
        workers: processes (documents rendered at once).
        metrics: where queue depth and rendering time go (optional).
    """

    def __init__(self, workers: int, metrics: Metrics | None = None) -> None:
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

    def render(self, model: ReportModel, fmt: Format) -> Document:
        """Render ``model`` in a pool process; blocks the calling thread only."""
        self._count(1)
        started = time.perf_counter()
        try:
            try:
                return self._executor.submit(render, model, fmt).result()
            except BrokenProcessPool:  # a rendering process died: start new ones, once
                with self._lock:
                    self._executor = self._start()
                return self._executor.submit(render, model, fmt).result()
        finally:
            self._count(-1)
            if self._metrics is not None:
                self._metrics.timed("render", fmt.value, time.perf_counter() - started)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
