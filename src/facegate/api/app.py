"""The application factory: settings in, a FastAPI app out; no work at import.

The store is opened when the app starts (or a ready
:class:`~facegate.deployment.Deployment` is given, for tests and embedding) and
closed when it stops, after uvicorn has drained the requests in flight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.formparsers import MultiPartParser

from .. import __version__
from ..analysis import FaceAnalyzer
from ..deployment import Deployment
from ..engine.packs import DEFAULT_PACK, get_pack
from ..web import install_web
from . import biometrics, books, documents, oversight, people
from .errors import install_error_handlers
from .middleware import RequestContext
from .service import RateLimiter, Service
from .settings import ApiSettings

__all__ = ["create_app", "keep_uploads_in_memory"]


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = deployment is None
        d = deployment or Deployment.open(cfg.database, keys=cfg.keys, analyzer=analyzer)
        app.state.service = Service(d)
        try:
            yield
        finally:
            if opened:
                with app.state.service.lock:
                    d.close()

    app = FastAPI(title="facegate", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Face recognition that keeps the law by construction: every "
                              "biometric operation passes a policy gate. See docs/api.md.")
    app.state.settings = cfg
    app.state.limiter = RateLimiter(cfg.rate_per_minute)
    app.state.anonymous_limiter = RateLimiter(cfg.anonymous_rate_per_minute)
    if deployment is not None:
        app.state.service = Service(deployment)
    install_error_handlers(app)
    for module in (books, people, biometrics, oversight, documents):
        app.include_router(module.router)
    app.include_router(oversight.health)
    install_web(app)
    def model() -> str:
        """The deployment's default pack (the best-measured installed one unless it was
        opened with another), else the always-installed fallback."""
        service = getattr(app.state, "service", None)
        pack = service.deployment.analyzer.pack if service is not None else get_pack(
            DEFAULT_PACK)
        return f"{pack.id}/{pack.version}"

    app.add_middleware(RequestContext, max_body_bytes=cfg.max_body_bytes, model=model)
    return app
