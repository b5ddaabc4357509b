"""The staff pages' language switch: the browser's choice, kept in its session.

Harmless as a GET, like the kiosk's switch: it changes nothing but the language
the pages of this browser are shown in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..locale import LANGUAGES
from . import sessions
from .auth import see_other

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _local(target: str) -> str:
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/language")
def switch(request: Request, to: str = "", back: str = "/dashboard") -> Response:
    """Show this browser's pages in ``to`` (``zh`` or ``en``) from now on, then go ``back``."""
    session = sessions.ensure(request)
    if to in LANGUAGES:
        session.lang, session.lang_chosen = to, True
    return see_other(request, _local(back[:500]))
