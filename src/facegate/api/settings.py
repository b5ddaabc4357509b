"""The service's settings: one frozen value, read once."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import InvalidArgument

__all__ = ["ENV_SETTINGS", "ApiSettings"]

#: The environment variable that carries the settings (JSON) to each worker process of
#: ``facegate serve --workers N``, and that ``uvicorn --factory
#: facegate.api.app:app_from_environment`` reads.
ENV_SETTINGS: Final = "FACEGATE_SERVICE"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How the service runs.

    Args:
        database: the store: an SQLite path (the default) or a ``postgresql://`` URL.
        keys: the key file (``<database>.keys`` for an SQLite store when ``None``).
        max_body_bytes: requests with a larger body are refused (``request.too_large``).
        rate_per_minute: requests one key may send per minute (``rate.limited`` beyond),
            across every process of the deployment.
        anonymous_rate_per_minute: requests one client address may send per minute
            without a valid key (public notices, refused requests).
        threads: requests served at once by this process (its worker threads); each
            thread holds one store connection.
        inference_workers: engine runs at once in this process (the cores when ``None``).
        engine_threads: ONNX Runtime threads for one engine run (``None``: its default,
            all cores). One, by default: as many runs as cores go at once, and a run's
            idle threads would spin on the cores the others need.
        report_workers: documents rendered at once, each in a separate process at the
            lowest CPU priority (``0``: in the request's thread, as the library does).
        background: run the background work (the gallery follower, the webhook sender,
            the scheduled retention sweep).
        sweep_interval: seconds between scheduled retention sweeps (one process of the
            deployment sweeps, under a lease in the store); ``0`` turns them off.
        integrity_interval: seconds between full checks of the store by this process
            (every protected row's tag against the signed checkpoint,
            :meth:`~facegate.deployment.Deployment.check_store`); a failure refuses every
            later write of the process. ``0`` turns them off.
        follow_interval: the longest a process's gallery indexes lag behind another
            process's commit when nothing wakes it sooner (seconds).
        webhook_retry_base, webhook_retry_cap, webhook_attempts: the first retry of a
            failed delivery after ``base`` seconds, doubling up to ``cap``; given up after
            ``attempts`` tries.
        webhook_timeout: seconds one delivery may take.
        metrics: serve ``/metrics`` (Prometheus).
    """

    database: str = "facegate.db"
    keys: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    rate_per_minute: int = 1200
    anonymous_rate_per_minute: int = 120
    threads: int = 16
    inference_workers: int | None = None
    engine_threads: int | None = 1
    report_workers: int = 1
    background: bool = True
    sweep_interval: float = 3600.0
    integrity_interval: float = 300.0
    follow_interval: float = 1.0
    webhook_retry_base: float = 2.0
    webhook_retry_cap: float = 3600.0
    webhook_attempts: int = 12
    webhook_timeout: float = 10.0
    metrics: bool = True

    def to_json(self) -> str:
        """The settings as JSON (for :data:`ENV_SETTINGS`)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        """Settings from :data:`ENV_SETTINGS` (JSON), else the defaults with
        ``FACEGATE_DB`` and ``FACEGATE_KEYS``.

        Raises:
            InvalidArgument: the JSON is malformed or names an unknown setting.
        """
        env = os.environ if environ is None else environ
        given: dict[str, Any] = {}
        if env.get(ENV_SETTINGS):
            try:
                loaded = json.loads(env[ENV_SETTINGS])
            except ValueError:
                raise InvalidArgument(f"{ENV_SETTINGS} is not JSON") from None
            if not isinstance(loaded, dict):
                raise InvalidArgument(f"{ENV_SETTINGS} must be a JSON object")
            given = loaded
        else:
            if env.get("FACEGATE_DB"):
                given["database"] = env["FACEGATE_DB"]
            if env.get("FACEGATE_KEYS"):
                given["keys"] = env["FACEGATE_KEYS"]
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidArgument(f"unknown service settings: {', '.join(unknown)}",
                                  details={"unknown": unknown})
        return cls(**given)
