"""The application factory: settings in, a FastAPI app out; no work at import.

The store is opened when the app starts (or a ready
:class:`~facegate.deployment.Deployment` is given, for tests and embedding) and
closed when it stops, after uvicorn has drained the requests in flight. At
start the app also bounds its worker threads (``settings.threads``), starts the
pool of low-priority processes that render documents and the background work
(:mod:`facegate.api.background`). :func:`app_from_environment` is the factory
that every worker process of ``facegate serve --workers N`` (or ``uvicorn
--factory``) calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.formparsers import MultiPartParser

from .. import __version__
from ..analysis import FaceAnalyzer
from ..deployment import Deployment
from ..engine.packs import DEFAULT_PACK, get_pack
from ..web import install_web
from . import biometrics, books, cameras, docs, documents, events, oversight, people, staff
from .background import Background
from .errors import install_error_handlers
from .metrics import Metrics
from .middleware import RequestContext
from .rendering import ReportPool
from .service import RateLimiter, Service
from .settings import ApiSettings

__all__ = ["app_from_environment", "create_app", "keep_uploads_in_memory"]


def keep_uploads_in_memory(max_body_bytes: int) -> None:
    """Keep every multipart part in memory, up to the body limit.

    Starlette spools a file part over 1 MiB to a temporary file (unlinked, but on
    disk and readable through the process while open); facegate writes no image
    (docs/storage.md). The spool threshold is raised, for the process, to the body
    limit, which :class:`~facegate.api.middleware.RequestContext` enforces before a
    part can grow past it: a face image never reaches the disk.
    """
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_body_bytes)


def create_app(settings: ApiSettings | None = None, *, deployment: Deployment | None = None,
               analyzer: FaceAnalyzer | None = None) -> FastAPI:
    """The facegate service.

    Args:
        settings: how to run; defaults throughout when ``None``.
        deployment: an open deployment to serve (its owner closes it); otherwise the
            store in ``settings.database`` is opened at start-up and closed at shutdown.
        analyzer: the face analyzer for a store opened here (the default pack's when ``None``).
    """
    cfg = settings or ApiSettings()
    keep_uploads_in_memory(cfg.max_body_bytes)

    def served() -> Deployment | None:
        service: Service | None = getattr(app.state, "service", None)
        return service.deployment if service is not None else None

    def current() -> Deployment:
        found = served()
        assert found is not None, "the service has not started"
        return found

    metrics = Metrics(served)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = deployment is None
        d = deployment or Deployment.open(cfg.database, keys=cfg.keys, analyzer=analyzer,
                                          inference_workers=cfg.inference_workers,
                                          engine_threads=cfg.engine_threads)
        app.state.service = Service(d)
        anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.threads
        quiet = d.observer
        d.observer = metrics
        target, key_file = d.opened_as
        pool = (ReportPool(target, key_file, cfg.report_workers, metrics)
                if cfg.report_workers > 0 and target else None)
        if pool is not None:
            d.use_report_process(pool.build)
        background = Background(d, cfg) if cfg.background else None
        app.state.background = background
        if background is not None:
            background.start()
        try:
            yield
        finally:
            d.stop_all_cameras(operator="system:shutdown")
            if background is not None:
                background.stop()
            if pool is not None:
                d.use_report_process(None)
                pool.close()
            d.observer = quiet
            if opened:
                d.close()

    app = FastAPI(title="facegate", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Face recognition that keeps the law by construction: every "
                              "biometric operation passes a policy gate. See docs/api.md.")
    app.state.settings = cfg
    app.state.metrics = metrics
    app.state.background = None
    app.state.limiter = RateLimiter(current, cfg.rate_per_minute, kind="key")
    app.state.anonymous_limiter = RateLimiter(current, cfg.anonymous_rate_per_minute,
                                              kind="client")
    if deployment is not None:
        app.state.service = Service(deployment)
    install_error_handlers(app)
    for module in (books, staff, people, biometrics, cameras, oversight, documents, events):
        app.include_router(module.router)
    app.include_router(oversight.health)
    docs.install_docs(app)
    if cfg.metrics:
        @app.get("/metrics", include_in_schema=False)
        def scrape(request: Request) -> Response:
            body, ctype = metrics.exposition()
            return Response(body, media_type=ctype)
    install_web(app)
    def model() -> str:
        """The deployment's default pack (the best-measured installed one unless it was
        opened with another), else the always-installed fallback."""
        found = served()
        pack = found.analyzer.pack if found is not None else get_pack(DEFAULT_PACK)
        return f"{pack.id}/{pack.version}"

    app.add_middleware(RequestContext, max_body_bytes=cfg.max_body_bytes, model=model,
                       observe=metrics.request)
    return app


def app_from_environment() -> FastAPI:
    """The service with the settings in the environment (:meth:`ApiSettings.from_environ`):
    what each worker process of ``facegate serve --workers N`` runs."""
    return create_app(ApiSettings.from_environ())
