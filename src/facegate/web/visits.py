"""The end of a kiosk visit: a consent given in it with no face enrolled is withdrawn.

A person who consents at the kiosk and then presses "Start over", walks away (the
visit's idle timeout), or whose kiosk is signed out before their face is taken,
has not enrolled: the consent they gave would otherwise stay live with nothing
behind it, and they would believe they had cancelled. The visit ends with that
consent withdrawn, the reason ``abandoned`` in the audit entry.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..api.common import service_of
from . import sessions

__all__ = ["current_visit", "end_visit"]


def end_visit(request: Request, session: sessions.Session) -> None:
    """Forget the session's visit, withdrawing a consent it holds with no enrollment."""
    visit, session.visit = session.visit, {}
    subject, purpose = visit.get("subject"), visit.get("purpose")
    if not subject or not purpose or visit.get("enrolled"):
        return
    operator = str(visit.get("operator") or "kiosk")
    service_of(request).call(lambda d: d.withdraw_consent(
        subject=str(subject), purpose=str(purpose), method="on_screen", operator=operator,
        reason="abandoned"))


def current_visit(request: Request, session: sessions.Session) -> dict[str, Any]:
    """The session's visit; one idle past the limit is ended first (:func:`end_visit`)."""
    now = sessions.session_store(request).now()
    if session.visit and now - session.visit_seen > sessions.VISIT_LIMIT:
        end_visit(request, session)
    return session.touch_visit(now)
