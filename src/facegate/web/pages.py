"""Rendering: the Jinja2 templates shipped in the package, each page with its own CSP,
in the page's language.

Pages load only this site's style sheet and scripts (no inline script or
style, nothing from a CDN), so their Content-Security-Policy allows ``'self'``
and the camera's ``blob:`` URLs and nothing else.

A staff page's words are marked ``_("...")`` and translated from the catalogs in
:mod:`facegate.locale`; its language is the one the browser chose with the language
switch, else ``?lang=``, else the browser's ``Accept-Language`` (:func:`page_language`).
The kiosk keeps its session's language (Chinese until the visitor switches).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from ..locale import LANGUAGES, N_, negotiate, translations
from ..locale.errors import error_message
from ..texts import Text, days
from . import sessions
from .i18n import text, when

__all__ = ["PAGE_CSP", "TERMS", "environment", "page_language", "render", "say"]

#: The Content-Security-Policy of every HTML page.
PAGE_CSP: Final = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                   "style-src 'self'; script-src 'self'; connect-src 'self'; "
                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                   "object-src 'none'")

#: The words of the records' fixed vocabularies that staff pages show (``term(value)``).
TERMS: Final[dict[str, str]] = {
    # roles
    "admin": N_("admin"), "operator": N_("operator"), "reviewer": N_("reviewer"),
    "auditor": N_("auditor"), "subject": N_("subject"),
    # a purpose's modes and status
    "verify": N_("verify"), "identify": N_("identify"),
    "draft": N_("draft"), "active": N_("active"), "suspended": N_("suspended"),
    # site types
    "office": N_("office"), "building_entrance": N_("building entrance"),
    "residential_entrance": N_("residential entrance"), "bank_branch": N_("bank branch"),
    "hotel_lobby": N_("hotel lobby"), "station": N_("station"), "airport": N_("airport"),
    "school": N_("school"), "retail": N_("retail"), "public_square": N_("public square"),
    "hotel_room": N_("hotel room"), "bathhouse": N_("bathhouse"),
    "changing_room": N_("changing room"), "toilet": N_("toilet"),
    # where templates are kept
    "device": N_("on the device"), "central": N_("central store"),
    # filing records
    "early_warning": N_("early warning"), "filing": N_("filing"), "change": N_("change"),
    # camera states
    "starting": N_("starting"), "connecting": N_("connecting"),
    "reconnecting": N_("reconnecting"), "running": N_("running"), "ended": N_("ended"),
    "stopped": N_("stopped"), "failed": N_("failed"), "refused": N_("refused"),
    "lost": N_("lost"),
    # audit outcomes (other outcomes are error codes, shown as they are)
    "ok": N_("ok"), "match": N_("match"), "no_match": N_("no match"),
    "candidates": N_("candidates"), "passed": N_("passed"), "adjust": N_("adjust"),
    "erased": N_("erased"), "done": N_("done"), "none": N_("none"), "bad": N_("bad"),
    "confirmed": N_("confirmed"), "rejected": N_("rejected"),
    "route_to_alternative": N_("route to alternative"),
}


def page_language(request: Request, session: sessions.Session | None) -> str:
    """The language of a page: on a kiosk browser's kiosk pages, the kiosk's (its
    session's, Chinese until a visitor switches); elsewhere the language the browser
    chose with the switch, else ``?lang=``, else ``Accept-Language``."""
    if session is not None and (session.lang_chosen or (
            session.kiosk_purpose is not None and request.url.path.startswith("/kiosk"))):
        return session.lang
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return negotiate(request.headers.get("accept-language"))


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str = "en") -> Environment:
    """The templates with ``lang``'s catalog installed (one environment per language)."""
    env = Environment(loader=PackageLoader("facegate.web", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    catalog = translations(lang)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.globals["t"] = text
    env.globals["say"] = say
    env.globals["days"] = days
    env.globals["when"] = when
    def term(value: object) -> str:
        """A word of a fixed vocabulary (a role, a status...) in ``lang``."""
        return catalog.gettext(TERMS.get(str(value), str(value)))

    env.globals["term"] = env.filters["term"] = term
    env.globals["error_text"] = lambda error: error_message(error, lang)
    env.globals["html_lang"] = "zh-Hans" if lang == "zh" else lang
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
    lang = context.setdefault("lang", page_language(request, session))
    context.setdefault("large", session.large if session else False)
    context.setdefault("csrf", session.csrf if session else "")
    context.setdefault("path", request.url.path)
    html = environment(lang).get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status,
                            headers={"content-security-policy": PAGE_CSP,
                                     "content-language": lang})
    if session is not None:
        sessions.set_cookie(request, response)
    return response
