"""Events through the deployment: webhook endpoints, the outbox, and the event feed.

Every audit entry is offered to the active webhook endpoints in the transaction
that writes it (:meth:`~facegate.deployment.base.DeploymentBase._audit`), so the
outbox holds exactly the committed entries. :meth:`Events.claim_deliveries` and
:meth:`Events.record_delivery` are what a sender (the service's dispatcher, see
``docs/events.md``) calls around each HTTP attempt; :meth:`Events.events` is
the feed for ``GET /v1/events`` and the dashboards' stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from ..audit.trail import head_seq
from ..errors import InvalidArgument
from ..events.catalogue import AUDIENCES, NAMED_TYPES, Entry, Event, event_for, in_scope
from ..events.delivery import Delivery
from ..events.store import (
    Endpoint,
    any_due,
    claim_due,
    get_endpoint,
    insert_endpoint,
    list_endpoints,
    load_delivery,
    mark_attempt,
    outbox_counts,
    revoke_endpoint,
)
from ..storage.db import period_sql
from .rights import Rights

__all__ = ["Events"]

#: Audit entries read per query while paging the event feed.
_BATCH = 500


def _scope(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


class Events(Rights):
    """Webhooks and the event feed; part of :class:`~facegate.deployment.Deployment`."""

    def register_webhook(self, *, url: str, audience: str, label: str,
                         types: Iterable[str] | None = None,
                         purposes: Iterable[str] | None = None,
                         sites: Iterable[str] | None = None,
                         operator: str = "system") -> tuple[Endpoint, str]:
        """Register an endpoint for ``audience``'s events (``types``: a subset of them),
        within ``purposes`` and ``sites`` (all when ``None``); returns it and its signing
        secret, shown only now. Audited as ``webhook-registered`` (never the secret).

        Raises:
            InvalidArgument: not an http(s) URL, an unknown audience, or types the
                audience does not receive.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
                or parts.password or len(url) > 2000:
            raise InvalidArgument("a webhook URL is http:// or https://, with a host and no "
                                  "credentials", details={"url": url[:200]})
        if audience not in AUDIENCES:
            raise InvalidArgument(f"unknown audience {audience!r}",
                                  details={"audiences": sorted(AUDIENCES)})
        wanted = _scope(types)
        allowed = AUDIENCES[audience]
        if wanted is not None:
            bad = sorted(t for t in wanted if (t not in allowed if allowed else
                                               not (t in NAMED_TYPES or t.startswith("audit."))))
            if bad or not wanted:
                raise InvalidArgument(f"the {audience} audience does not receive {bad}",
                                      details={"allowed": sorted(allowed) or ["*"]})
        with self._unit() as conn:
            for key in purposes or ():
                self._purpose(conn, key)
            for key in sites or ():
                self._site(conn, key)
            endpoint, secret = insert_endpoint(
                conn, ring=self._keys.ring, url=url, label=label, audience=audience,
                types=wanted, purposes=_scope(purposes), sites=_scope(sites),
                now=self._clock.now())
            self._audit(conn, "webhook-registered", operator=operator, detail={
                "webhook": endpoint.id, "audience": audience,
                "types": sorted(wanted) if wanted is not None else None,
                "purposes": sorted(purposes) if purposes is not None else None,
                "sites": sorted(sites) if sites is not None else None})
        return endpoint, secret

    def webhooks(self) -> list[Endpoint]:
        """Every endpoint ever registered (revoked ones too), without secrets."""
        return list_endpoints(self._conn)

    def webhook(self, endpoint_id: str) -> Endpoint:
        return get_endpoint(self._conn, endpoint_id=endpoint_id)

    def webhook_outbox(self) -> dict[str, dict[str, int]]:
        """Per endpoint: events pending, delivered and given up."""
        return outbox_counts(self._conn)

    def revoke_webhook(self, endpoint_id: str, *, operator: str = "system") -> Endpoint:
        """Stop deliveries to an endpoint now; audited as ``webhook-revoked``."""
        with self._unit() as conn:
            endpoint = revoke_endpoint(conn, endpoint_id=endpoint_id, now=self._clock.now())
            self._audit(conn, "webhook-revoked", operator=operator,
                        detail={"webhook": endpoint.id})
        return endpoint

    # -- the sender's side ----------------------------------------------------------

    def claim_deliveries(self, *, limit: int = 20, lease: float = 60.0) -> list[Delivery]:
        """Claim up to ``limit`` outbox rows due now, each for ``lease`` seconds (no other
        sender takes them meanwhile), with what sending needs."""
        now = time.time()
        if not any_due(self._conn, now=now):  # a read: no write lock while idle
            return []
        with self._unit(serialise=False) as conn:
            ids = claim_due(conn, now=now, lease=lease, limit=limit)
        ring = self._keys.ring
        out = []
        for delivery_id in ids:
            found = load_delivery(self._conn, ring=ring, delivery_id=delivery_id)
            if found is not None:
                out.append(found)
        return out

    def record_delivery(self, delivery: Delivery, *, delivered: bool, status: str,
                        next_attempt: float | None) -> None:
        """Record one attempt's outcome (``next_attempt``: unix time of the retry, or
        ``None`` to give up)."""
        with self._unit(serialise=False) as conn:
            mark_attempt(conn, delivery_id=delivery.id, delivered=delivered, status=status,
                         now=self._clock.now(), next_attempt=next_attempt)

    # -- the feed -------------------------------------------------------------------

    def audit_head(self) -> int:
        """The newest audit entry's sequence number (the event feed's position now)."""
        return head_seq(self._conn)

    def events(self, *, audience: str, purposes: Iterable[str] | None = None,
               sites: Iterable[str] | None = None, after: int = 0,
               since: datetime | None = None, limit: int = 100,
               scan: int = 5000) -> tuple[list[Event], int]:
        """The events ``audience`` may see within ``purposes`` and ``sites``, oldest first,
        from audit entries after ``after`` (and at or after ``since``); at most ``limit``,
        reading at most ``scan`` entries. Returns them and the cursor to continue from
        (the last entry read)."""
        wanted_p, wanted_s = _scope(purposes), _scope(sites)
        site_of = {p.key: p.site_key for p in self.purposes()} if wanted_s else {}
        found: list[Event] = []
        cursor = after
        read = 0
        period, bounds = period_sql("at", since, None)
        while len(found) < limit and read < scan:
            rows = self._conn.execute(
                "SELECT seq, at, name, operator, outcome, purpose_key, subject_id, rule, detail "
                f"FROM audit_events WHERE seq > ?{period} ORDER BY seq LIMIT ?",
                (cursor, *bounds, _BATCH)).fetchall()
            if not rows:
                break
            for r in rows:
                read += 1
                cursor = int(r[0])
                entry = Entry(seq=int(r[0]), at=str(r[1]), name=str(r[2]), operator=str(r[3]),
                              outcome=str(r[4]), purpose=r[5], subject=r[6], rule=r[7],
                              detail=json.loads(r[8]))
                if not in_scope(entry, purposes=wanted_p, sites=wanted_s, site_of=site_of):
                    continue
                event = event_for(entry, audience)
                if event is not None:
                    found.append(event)
                    if len(found) == limit:
                        break
        return found, cursor
