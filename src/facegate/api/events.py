"""Events for integrators: webhook endpoints (admin), the event feed and its stream.

- ``POST /v1/webhooks`` registers an endpoint for an audience (``door``, ``hr``,
  ``review``, ``audit``) within a scope of purposes and sites, and returns its
  signing secret once; ``GET /v1/webhooks`` lists them with their outbox;
  ``DELETE /v1/webhooks/{id}`` stops deliveries.
- ``GET /v1/events`` pages through the events the caller's key may see (by its
  role: operator ``door``, reviewer ``review``, admin and auditor ``audit``; within
  its scope), after a cursor and ``since`` a time.
- ``GET /v1/events/stream`` is the same feed as server-sent events, for
  dashboards: each event as ``id:`` (its audit sequence number, so a reconnecting
  browser resumes with ``Last-Event-ID``), ``event:`` (its type) and ``data:``
  (its JSON), with a comment every 15 s to keep proxies from closing it.

See ``docs/events.md``.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from ..access import ApiAction, ApiKey, Scope
from ..errors import Forbidden
from ..events.catalogue import ROLE_AUDIENCE, Event
from .common import AdminKey, StaffKey, StrictBody, allow, allowed, service_of
from .errors import ERROR_RESPONSES
from .models import (
    EventOut,
    EventPage,
    WebhookCreated,
    WebhookList,
    WebhookOut,
    WebhookRevoked,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["events"])

#: Seconds between keep-alive comments on an idle stream.
KEEP_ALIVE = 15.0
#: Seconds between looks at the store on an idle stream.
POLL = 0.5


class WebhookIn(StrictBody):
    url: str = Field(min_length=8, max_length=2000)
    audience: Literal["door", "hr", "review", "audit"]
    label: str = Field(min_length=1, max_length=200)
    types: list[str] | None = Field(default=None, max_length=50)
    purposes: list[str] | None = Field(default=None, max_length=200)
    sites: list[str] | None = Field(default=None, max_length=200)


def _scope(purposes: list[str] | frozenset[str] | None,
           sites: list[str] | frozenset[str] | None) -> Scope:
    return Scope(purposes=None if purposes is None else frozenset(purposes),
                 sites=None if sites is None else frozenset(sites))


def _event(e: Event) -> EventOut:
    return EventOut(id=e.id, type=e.type, occurred_at=e.occurred_at, audit_seq=e.audit_seq,
                    data=e.data)


@router.post("/webhooks", status_code=201)
def register_webhook(body: WebhookIn, request: Request, key: AdminKey) -> WebhookCreated:
    """Register an endpoint; the secret that signs its deliveries is in this response only."""
    allow(request, key, ApiAction.CONFIGURE, other_key=_scope(body.purposes, body.sites))
    endpoint, secret = service_of(request).call(lambda d: d.register_webhook(
        url=body.url, audience=body.audience, label=body.label, types=body.types,
        purposes=body.purposes, sites=body.sites, operator=key.principal))
    return WebhookCreated(webhook=WebhookOut.model_validate(endpoint.as_dict()), secret=secret)


@router.get("/webhooks")
def list_webhooks(request: Request, key: AdminKey) -> WebhookList:
    """Every endpoint (never its secret), with its outbox: events pending, delivered and
    given up."""
    allow(request, key, ApiAction.CONFIGURE)
    endpoints, counts = service_of(request).call(lambda d: (d.webhooks(), d.webhook_outbox()))
    empty = {"pending": 0, "delivered": 0, "failed": 0}
    return WebhookList(webhooks=[
        WebhookOut.model_validate({**e.as_dict(), "outbox": counts.get(e.id, empty)})
        for e in endpoints
        if allowed(key, ApiAction.CONFIGURE, other_key=_scope(e.purposes, e.sites))])


@router.delete("/webhooks/{webhook_id}")
def revoke_webhook(webhook_id: str, request: Request, key: AdminKey) -> WebhookRevoked:
    """Stop deliveries to an endpoint now; what it had not received is given up."""
    allow(request, key, ApiAction.CONFIGURE)
    target = service_of(request).call(lambda d: d.webhook(webhook_id))
    allow(request, key, ApiAction.CONFIGURE, other_key=_scope(target.purposes, target.sites))
    endpoint = service_of(request).call(
        lambda d: d.revoke_webhook(webhook_id, operator=key.principal))
    return WebhookRevoked(webhook=WebhookOut.model_validate(endpoint.as_dict()))


def _feed(request: Request, key: ApiKey) -> tuple[str, list[str] | None, list[str] | None]:
    allow(request, key, ApiAction.READ_BOOKS)
    audience = ROLE_AUDIENCE.get(key.role.value)
    if audience is None:
        raise Forbidden("this key sees no events", details={"role": key.role.value})
    return (audience, sorted(key.purposes) if key.purposes is not None else None,
            sorted(key.sites) if key.sites is not None else None)


@router.get("/events")
def list_events(request: Request, key: StaffKey,
                after: Annotated[int, Query(ge=0)] = 0,
                since: datetime | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> EventPage:
    """Events after the cursor ``after`` (an audit sequence number; ``0``: the start) and
    at or after ``since``, oldest first, that the key's role and scope may see.
    ``next_after`` continues the page; it is ``null`` when the feed is read to its end."""
    audience, purposes, sites = _feed(request, key)
    found, cursor = service_of(request).call(lambda d: d.events(
        audience=audience, purposes=purposes, sites=sites, after=after, since=since,
        limit=limit))
    head = service_of(request).call(lambda d: d.audit_head())
    return EventPage(events=[_event(e) for e in found],
                     next_after=cursor if cursor < head else None)


#: One server-sent event as the stream sends it: ``id`` (the audit sequence number),
#: ``event`` (the type), ``data`` (the event's JSON); the first one only sets ``retry``.
SSE_EVENT = {"type": "object", "properties": {
    "id": {"type": "string"}, "event": {"type": "string"},
    "data": {"type": "string", "contentMediaType": "application/json"},
    "retry": {"type": "integer"}}}


@router.get("/events/stream", response_class=StreamingResponse, responses={200: {
    "description": "server-sent events: id, event (the type) and data (the event's JSON)",
    "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
async def stream_events(request: Request, key: StaffKey,
                        after: Annotated[int | None, Query(ge=0)] = None,
                        seconds: Annotated[int, Query(ge=1, le=3600)] = 300,
                        last_event_id: Annotated[str | None, Header(max_length=20)] = None
                        ) -> StreamingResponse:
    """The event feed as a stream of server-sent events, from ``after`` (or the
    ``Last-Event-ID`` a reconnecting browser sends; by default: from now on). The stream
    ends after ``seconds``; a browser's ``EventSource`` reconnects and resumes where it
    left off."""
    audience, purposes, sites = _feed(request, key)
    d = service_of(request).deployment
    start = after
    if start is None and last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id)
    if start is None:
        start = await run_in_threadpool(d.audit_head)

    async def frames() -> AsyncIterator[str]:
        cursor = start
        quiet_since = time.monotonic()
        ends = time.monotonic() + seconds
        yield "retry: 2000\n\n"
        while time.monotonic() < ends and not await request.is_disconnected():
            found, cursor = await run_in_threadpool(
                functools.partial(d.events, audience=audience, purposes=purposes,
                                  sites=sites, after=cursor, limit=100))
            for e in found:
                data = json.dumps(_event(e).model_dump(), separators=(",", ":"), default=str)
                yield f"id: {e.audit_seq}\nevent: {e.type}\ndata: {data}\n\n"
            if found:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since > KEEP_ALIVE:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await anyio.sleep(POLL)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
