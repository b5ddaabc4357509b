"""Browser sessions: an API key turned into a cookie, and a CSRF token per session.

A person signs in once with an API key (staff at a desk, or staff setting up
a kiosk); the session remembers the key's id, never its secret. Sessions live
in the store (``web_sessions``, through the deployment), so any service process
serves any request and a restart signs nobody out: the cookie
``facegate_session`` (HttpOnly, SameSite=Strict, Secure over https) carries a
random id and a random key; the store keeps the id's SHA-256 and the session's
data sealed under that key (:mod:`facegate.access.sessions`). Every session
holds a CSRF token that each form carries and each POST must echo (a ``csrf``
field or the ``X-CSRF-Token`` header).

A request loads its session once; :class:`SessionSaver` stores what the request
changed just before the response starts, so the browser's next request sees it.
Only changed data is written: a request that only reads (a guidance frame, a
page view) records its time and nothing else, so two requests of one kiosk at
once do not undo each other's steps.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import Forbidden

if TYPE_CHECKING:
    from ..deployment import Deployment

__all__ = ["COOKIE", "Session", "SessionSaver", "SessionStore", "check_csrf", "check_form",
           "session_store"]

COOKIE: Final = "facegate_session"
#: A session unused for this long is forgotten (seconds).
IDLE_LIMIT: Final = 12 * 3600
#: A session nobody signed in to, unused for this long, is forgotten (seconds).
ANONYMOUS_LIMIT: Final = 3600
#: A kiosk visit unused for this long starts over, so a token never lingers on screen.
VISIT_LIMIT: Final = 10 * 60
#: Times of use are written at most this often when nothing else changed (seconds).
_TOUCH_EVERY: Final = 30.0


@dataclass
class Session:
    """One browser's session.

    Args:
        id: the cookie's value (a random id and a random key).
        csrf: the token every form of this session carries.
        key_id: the signed-in API key, or ``None`` before sign-in.
        kiosk_purpose: set when staff turned this browser into a kiosk for a purpose.
        lang: ``zh`` or ``en`` (the kiosk's language).
        lang_chosen: the browser chose ``lang`` with a staff page's language switch
            (staff pages otherwise follow ``Accept-Language``).
        large: large text mode.
        visit: the kiosk's current visit (subject, token, step...), cleared at the end.
    """

    id: str
    csrf: str
    seen: float
    key_id: str | None = None
    kiosk_purpose: str | None = None
    lang: str = "zh"
    lang_chosen: bool = False
    large: bool = False
    visit: dict[str, Any] = field(default_factory=dict)
    visit_seen: float = 0.0
    #: the stored form when loaded (``None``: not stored yet)
    loaded: str | None = None
    loaded_visit_seen: float = 0.0

    def touch_visit(self, now: float) -> dict[str, Any]:
        """The current visit, forgotten when it has been idle too long."""
        if self.visit and now - self.visit_seen > VISIT_LIMIT:
            self.visit = {}
        self.visit_seen = now
        return self.visit

    def data(self) -> dict[str, Any]:
        """What is stored (sealed) of the session."""
        return {"csrf": self.csrf, "kiosk_purpose": self.kiosk_purpose, "lang": self.lang,
                "lang_chosen": self.lang_chosen, "large": self.large, "visit": self.visit}

    def stored_form(self) -> str:
        return json.dumps({**self.data(), "key_id": self.key_id}, sort_keys=True, default=str)


class SessionStore:
    """Sessions by cookie, in the store, with idle expiry.

    Args:
        deployment: the deployment that keeps them (asked at each use).
    """

    def __init__(self, deployment: Callable[[], Deployment], *,
                 clock: Callable[[], float] = time.time) -> None:
        self._deployment = deployment
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def get(self, sid: str | None) -> Session | None:
        if not sid or len(sid) > 200:
            return None
        stored = self._deployment().web_session(sid)
        now = self._clock()
        if stored is None:
            return None
        if now - stored.seen_at > IDLE_LIMIT or (
                stored.key_id is None and now - stored.seen_at > ANONYMOUS_LIMIT):
            self._deployment().end_web_session(sid)
            return None
        data = stored.data
        s = Session(id=sid, csrf=str(data.get("csrf", "")), seen=stored.seen_at,
                    key_id=stored.key_id, kiosk_purpose=data.get("kiosk_purpose"),
                    lang=str(data.get("lang", "zh")),
                    lang_chosen=bool(data.get("lang_chosen", False)),
                    large=bool(data.get("large", False)),
                    visit=dict(data.get("visit") or {}), visit_seen=stored.visit_seen_at)
        s.loaded = s.stored_form()
        s.loaded_visit_seen = s.visit_seen
        return s

    def create(self, *, like: Session | None = None) -> Session:
        """A fresh session (a new id and CSRF token); ``like``'s preferences carry over.
        It is stored by :meth:`save` (at the end of the request)."""
        now = self._clock()
        s = Session(id="", csrf=secrets.token_urlsafe(32), seen=now, visit_seen=now)
        if like is not None:
            s.lang, s.lang_chosen, s.large = like.lang, like.lang_chosen, like.large
        s.id = self._deployment().start_web_session(s.data(), key_id=None)
        s.loaded = s.stored_form()
        s.loaded_visit_seen = now
        return s

    def save(self, s: Session) -> None:
        """Store what changed in ``s`` (its data, or only when it was last used)."""
        now = self._clock()
        form = s.stored_form()
        if form != s.loaded:
            self._deployment().save_web_session(s.id, s.data(), key_id=s.key_id,
                                                visit_seen=s.visit_seen)
        elif now - s.seen > _TOUCH_EVERY or s.visit_seen - s.loaded_visit_seen > _TOUCH_EVERY:
            self._deployment().save_web_session(s.id, None, key_id=s.key_id,
                                                visit_seen=s.visit_seen)
        s.loaded, s.loaded_visit_seen, s.seen = form, s.visit_seen, now

    def drop(self, sid: str) -> None:
        self._deployment().end_web_session(sid)

    def signed_out(self, key_id: str) -> None:
        """Forget every session of a key (revoked)."""
        self._deployment().end_key_sessions(key_id)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
               Awaitable[None]]


class SessionSaver:
    """ASGI middleware: the request's session is saved just before its response starts."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def saving(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                session = state.get("web_session")
                store = state.get("web_session_store")
                if isinstance(session, Session) and isinstance(store, SessionStore):
                    await run_in_threadpool(store.save, session)
            await send(message)

        await self.app(scope, receive, saving)


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.web_sessions
    return store


def current(request: Request) -> Session | None:
    """The request's session, if its cookie names a live one."""
    found = getattr(request.state, "web_session", None)
    if isinstance(found, Session):
        return found
    store = session_store(request)
    s = store.get(request.cookies.get(COOKIE))
    if s is not None:
        request.state.web_session = s
        request.state.web_session_store = store
    return s


def ensure(request: Request) -> Session:
    """The request's session, started now when it has none (the cookie is set on the page)."""
    s = current(request)
    if s is None:
        store = session_store(request)
        s = store.create()
        request.state.web_session = s
        request.state.web_session_store = store
        request.state.web_new_session = True
    return s


def replace(request: Request, old: Session | None) -> Session:
    """A fresh session id and CSRF token (at sign-in), dropping ``old``."""
    store = session_store(request)
    s = store.create(like=old)
    if old is not None:
        store.drop(old.id)
    request.state.web_session = s
    request.state.web_session_store = store
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
