"""What every request passes through: a request id, a body limit, security headers,
and one structured log line without biometric data: the route's template
(``/v1/subjects/{subject}``), never the raw path with its ids.

Pure ASGI middleware (no buffering of responses). The body limit refuses a
declared ``Content-Length`` over the limit at once and counts the bytes of a
chunked body, so an endless upload is cut off at the limit.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["SECURITY_HEADERS", "RequestContext"]

log = logging.getLogger("facegate.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Sent with every response.
SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cross-origin-resource-policy": "same-origin",
}

_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _too_large(request_id: str, limit: int) -> bytes:
    return json.dumps({"error": {
        "code": "request.too_large", "message": f"the request body exceeds {limit} bytes",
        "rule": None, "request_id": request_id, "details": {"limit": limit}}}).encode()


class RequestContext:
    """Request id, body limit, security headers and the access log, for an ASGI app.

    Args:
        app: the wrapped application.
        max_body_bytes: the largest body accepted.
        model: the deployment's default model pack, named in a header of every response.
        observe: told each request's method, route template, status and seconds (metrics).
    """

    def __init__(self, app: App, *, max_body_bytes: int, model: Callable[[], str],
                 observe: Callable[[str, str, int, float], None] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.model = model
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}
        extra = [(b"x-request-id", request_id.encode()),
                 (b"x-facegate-model", self.model().encode())]
        extra += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present]
            await send(message)

        try:
            declared = int(headers.get("content-length", "0") or "0")
        except ValueError:
            declared = 0
        template = "(no route)"
        try:
            if declared > self.max_body_bytes:
                await self._refuse(send_with_headers, request_id)
            else:
                await self.app(scope, self._counting(receive), send_with_headers)
        except Exception:
            status["code"] = 500  # answered by the outer error handler, logged here too
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(no route)"
            seconds = time.perf_counter() - started
            log.info(json.dumps({
                "event": "request", "request_id": request_id, "method": scope.get("method"),
                "route": template, "status": status["code"],
                "ms": round(seconds * 1000, 1), "key": scope["state"].get("key_id")}))
            if self.observe is not None:
                self.observe(str(scope.get("method")), template, status["code"], seconds)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message
        return counted

    async def _refuse(self, send: Send, request_id: str) -> None:
        body = _too_large(request_id, self.max_body_bytes)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """A chunked body went past the limit while it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit
