"""The web: the enrollment kiosk (subject-facing) and the staff dashboard.

Server-rendered pages (Jinja2) over the same :class:`~facegate.deployment.Deployment`
calls and the same role and scope checks as the REST service, added to its
application by :func:`facegate.api.create_app`. See ``docs/web.md``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from . import auth, capture, dashboard, journey, keys, kiosk, language, oversight, staff
from .sessions import SessionSaver, SessionStore

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    """Add the kiosk, the dashboard, sign-in and the static files to ``app``."""
    app.state.web_sessions = SessionStore(lambda: app.state.service.deployment)
    app.add_middleware(SessionSaver)
    app.state.error_page = auth.error_page
    for module in (auth, language, kiosk, capture, dashboard, journey, oversight, keys, staff):
        app.include_router(module.router)
    static = files("facegate.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=303)
