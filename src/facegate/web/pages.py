"""Rendering: the Jinja2 templates shipped in the package, each page with its own CSP.

Pages load only this site's style sheet and scripts (no inline script or
style, nothing from a CDN), so their Content-Security-Policy allows ``'self'``
and the camera's ``blob:`` URLs and nothing else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from ..texts import Text, days
from . import sessions
from .i18n import text, when

__all__ = ["PAGE_CSP", "render", "say"]

#: The Content-Security-Policy of every HTML page.
PAGE_CSP: Final = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                   "style-src 'self'; script-src 'self'; connect-src 'self'; "
                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                   "object-src 'none'")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("facegate.web", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    # Staff pages mark their words with ``_("...")``; these are the words as written.
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals["t"] = text
    env.globals["say"] = say
    env.globals["days"] = days
    env.globals["when"] = when
    return env


def say(words: Text | None, lang: str) -> str:
    """A record's words in ``lang`` (a purpose people are shown is active, so it has every
    language its profile requires); a staff page showing a draft that lacks ``lang`` shows
    the words it has."""
    if not words:
        return ""
    return words.get(lang) or next(iter(words.values()))


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` with ``context``, the session's CSRF token and language.

    An error page whose failure was the store's own renders without the session (which
    lives in the store): ``session=False`` in ``context``.
    """
    session = sessions.current(request) if context.pop("session", True) else None
    context.setdefault("lang", session.lang if session else "en")
    context.setdefault("large", session.large if session else False)
    context.setdefault("csrf", session.csrf if session else "")
    context.setdefault("path", request.url.path)
    html = environment().get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status,
                            headers={"content-security-policy": PAGE_CSP})
    if session is not None:
        sessions.set_cookie(request, response)
    return response
