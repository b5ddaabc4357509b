"""The REST service: a thin FastAPI adapter over :class:`~facegate.deployment.Deployment`.

:func:`create_app` builds the application from :class:`ApiSettings` (nothing
happens at import); ``facegate serve`` runs it under uvicorn. Every request is
authenticated by an API key whose role and scope are checked by
:func:`facegate.access.authorize`; every failure has one JSON shape
(:mod:`.errors`). See ``docs/api.md``.
"""

from .app import create_app
from .settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
