"""Browser sessions: an API key turned into a cookie, and a CSRF token per session.

A person signs in once with an API key (staff at a desk, or staff setting up
a kiosk); the server keeps the key's id, never its secret, under a random
session id sent as the ``facegate_session`` cookie (HttpOnly, SameSite=Strict,
Secure over https). Every session holds a CSRF token that each form carries
and each POST must echo (a ``csrf`` field or the ``X-CSRF-Token`` header).
Sessions live in the process's memory: a restart signs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import Request
from starlette.responses import Response

from ..errors import Forbidden

__all__ = ["COOKIE", "Session", "SessionStore", "check_csrf", "check_form", "session_store"]

COOKIE: Final = "facegate_session"
#: A session unused for this long is forgotten (seconds).
IDLE_LIMIT: Final = 12 * 3600
#: A kiosk visit unused for this long starts over, so a token never lingers on screen.
VISIT_LIMIT: Final = 10 * 60
_MAX_SESSIONS: Final = 10_000


@dataclass
class Session:
    """One browser's session.

    Args:
        id: the cookie's value (256 random bits).
        csrf: the token every form of this session carries.
        key_id: the signed-in API key, or ``None`` before sign-in.
        kiosk_purpose: set when staff turned this browser into a kiosk for a purpose.
        lang: ``zh`` or ``en`` (the kiosk's language).
        large: large text mode.
        visit: the kiosk's current visit (subject, token, step...), cleared at the end.
    """

    id: str
    csrf: str
    seen: float
    key_id: str | None = None
    kiosk_purpose: str | None = None
    lang: str = "zh"
    large: bool = False
    visit: dict[str, Any] = field(default_factory=dict)
    visit_seen: float = 0.0

    def touch_visit(self, now: float) -> dict[str, Any]:
        """The current visit, forgotten when it has been idle too long."""
        if self.visit and now - self.visit_seen > VISIT_LIMIT:
            self.visit = {}
        self.visit_seen = now
        return self.visit


class SessionStore:
    """Sessions by id, in memory, with idle expiry."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock()

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._sessions.get(sid)
            now = self._clock()
            if s is None or now - s.seen > IDLE_LIMIT:
                self._sessions.pop(sid, None)
                return None
            s.seen = now
            return s

    def create(self, *, like: Session | None = None) -> Session:
        """A fresh session (a new id and CSRF token); ``like``'s preferences carry over."""
        s = Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32),
                    seen=self._clock())
        if like is not None:
            s.lang, s.large = like.lang, like.large
        with self._lock:
            if len(self._sessions) >= _MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda x: x.seen)
                self._sessions.pop(oldest.id, None)
            self._sessions[s.id] = s
        return s

    def drop(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def signed_out(self, key_id: str) -> None:
        """Forget every session of a key (revoked)."""
        with self._lock:
            for sid in [s.id for s in self._sessions.values() if s.key_id == key_id]:
                self._sessions.pop(sid)


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.web_sessions
    return store


def current(request: Request) -> Session | None:
    """The request's session, if its cookie names a live one."""
    found = getattr(request.state, "web_session", None)
    if isinstance(found, Session):
        return found
    s = session_store(request).get(request.cookies.get(COOKIE))
    if s is not None:
        request.state.web_session = s
    return s


def ensure(request: Request) -> Session:
    """The request's session, started now when it has none (the cookie is set on the page)."""
    s = current(request)
    if s is None:
        s = session_store(request).create()
        request.state.web_session = s
        request.state.web_new_session = True
    return s


def replace(request: Request, old: Session | None) -> Session:
    """A fresh session id and CSRF token (at sign-in), dropping ``old``."""
    store = session_store(request)
    s = store.create(like=old)
    if old is not None:
        store.drop(old.id)
    request.state.web_session = s
    request.state.web_new_session = True
    return s


def set_cookie(request: Request, response: Response) -> None:
    """Send the session cookie when the session is new."""
    s = getattr(request.state, "web_session", None)
    if isinstance(s, Session) and getattr(request.state, "web_new_session", False):
        response.set_cookie(COOKIE, s.id, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def check_form(request: Request, csrf: str) -> Session:
    """The signed-in session, if a posted form carries its CSRF token (:func:`check_csrf`)."""
    return check_csrf(request, current(request), csrf)


def check_csrf(request: Request, session: Session | None, given: str | None) -> Session:
    """The session, if ``given`` (or the ``X-CSRF-Token`` header) is its CSRF token.

    Raises:
        Forbidden: no session, or a missing or wrong token.
    """
    token = given or request.headers.get("x-csrf-token") or ""
    if session is None or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise Forbidden("the form has expired or did not come from this site; reload the page",
                        details={"csrf": "invalid"})
    return session
