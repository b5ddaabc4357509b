"""Prometheus metrics at ``/metrics`` (prometheus-client).

What is counted, and with which labels, is fixed here, and none of it is
biometric data, a subject id or a key:

- ``facegate_requests_total{method, route, status}`` and
  ``facegate_request_seconds{method, route}``: per route *template*
  (``/v1/subjects/{subject}``), never the raw path;
- ``facegate_stage_seconds{stage, pack}``: engine time per model pack
  (``inference``), liveness video decoding (``video``), pack evaluation
  (``evaluation``), document rendering (``render``);
- ``facegate_pool_depth{pool}``: calls running in or waiting for the bounded
  pools (``inference``, ``slow``, ``reports``);
- ``facegate_gallery_templates{purpose, pack}``: templates in each in-memory
  gallery index (purpose keys are configuration, not personal data);
- read from the store at each scrape: ``facegate_audit_head`` (the audit log's
  newest sequence number) and ``facegate_webhook_outbox{state}`` (events
  pending and given up).

With several worker processes (``facegate serve --workers N``) the values are
kept in ``PROMETHEUS_MULTIPROC_DIR`` and every worker answers a scrape for all
of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ..deployment import Deployment


__all__ = ["Metrics"]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _StoreCollector(Collector):
    """Gauges read from the store when scraped (the same in every process)."""

    def __init__(self, deployment: Callable[[], Deployment | None]) -> None:
        self._deployment = deployment

    def collect(self) -> Iterator[GaugeMetricFamily]:
        d = self._deployment()
        if d is None:
            return
        head = GaugeMetricFamily("facegate_audit_head",
                                 "Sequence number of the newest audit log entry")
        head.add_metric([], float(d.audit_head()))
        yield head
        outbox = GaugeMetricFamily("facegate_webhook_outbox",
                                   "Webhook deliveries by state (pending, failed)",
                                   labels=["state"])
        counts = d.webhook_outbox().values()
        for state in ("pending", "failed"):
            outbox.add_metric([state], float(sum(c[state] for c in counts)))
        yield outbox


class Metrics:
    """The service's metrics, and the deployment observer that feeds them.

    Args:
        deployment: the deployment served (``None`` before the service started).
    """

    def __init__(self, deployment: Callable[[], Deployment | None]) -> None:
        self._multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        reg = self.registry
        self.requests = Counter("facegate_requests", "HTTP requests served",
                                ["method", "route", "status"], registry=reg)
        self.latency = Histogram("facegate_request_seconds", "HTTP request latency",
                                 ["method", "route"], buckets=_LATENCY, registry=reg)
        self.stages = Histogram("facegate_stage_seconds",
                                "Time in the engine, video decoding, evaluation, rendering",
                                ["stage", "pack"], buckets=_LATENCY, registry=reg)
        self.pools = Gauge("facegate_pool_depth",
                           "Calls running in or waiting for a bounded pool", ["pool"],
                           registry=reg, multiprocess_mode="livesum")
        self.galleries = Gauge("facegate_gallery_templates",
                               "Templates in an in-memory gallery index", ["purpose", "pack"],
                               registry=reg, multiprocess_mode="livemax")
        self._store = _StoreCollector(deployment)
        if not self._multiprocess:
            reg.register(self._store)

    # -- the observer protocol of facegate.deployment.base.Observer ---------------------

    def timed(self, stage: str, pack: str, seconds: float) -> None:
        self.stages.labels(stage, pack).observe(seconds)

    def waiting(self, pool: str, depth: int) -> None:
        self.pools.labels(pool).set(depth)

    def gallery(self, purpose: str, pack: str, templates: int) -> None:
        self.galleries.labels(purpose, pack).set(templates)

    # -- requests -----------------------------------------------------------------------

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets, and its content type."""
        if self._multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(self._store)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
