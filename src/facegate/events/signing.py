"""Signing a webhook delivery, and checking one (what a receiver does).

A delivery is a ``POST`` of the event's JSON body with these headers:

- ``Facegate-Event-Id``: the event's id (``evt_<audit seq>``), the same on every retry;
  a receiver that has seen it already answers 2xx and does nothing (deliveries are
  at least once);
- ``Facegate-Event-Type``: the event's type;
- ``Facegate-Signature``: ``t=<unix seconds>,v1=<hex>``, where the hex is
  HMAC-SHA256 under the endpoint's secret of ``<t>.`` followed by the body's bytes.

A receiver recomputes the HMAC over the bytes it received, compares in constant
time, and refuses a timestamp older than its tolerance (five minutes by default
in :func:`verify_signature`), so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

__all__ = ["SIGNATURE_HEADER", "TOLERANCE", "sign", "signature_header", "verify_signature"]

SIGNATURE_HEADER: Final = "Facegate-Signature"
#: How old a delivery's timestamp may be (seconds) for :func:`verify_signature`.
TOLERANCE: Final = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, body: bytes, *, now: float | None = None) -> str:
    """The ``Facegate-Signature`` value for ``body`` sent now."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: bytes, body: bytes, header: str, *, now: float | None = None,
                     tolerance: int = TOLERANCE) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` within ``tolerance`` seconds."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    given = parts.get("v1", "")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given.encode(), sign(secret, timestamp, body).encode())
