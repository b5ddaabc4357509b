"""The service's settings: one frozen value, read once."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How the service runs.

    Args:
        database: the store: an SQLite path (the default) or a ``postgresql://`` URL.
        keys: the key file (``<database>.keys`` for an SQLite store when ``None``).
        max_body_bytes: requests with a larger body are refused (``request.too_large``).
        rate_per_minute: requests one key may send per minute (``rate.limited`` beyond).
        anonymous_rate_per_minute: requests one client address may send per minute
            without a valid key (public notices, refused requests).
    """

    database: str = "facegate.db"
    keys: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    rate_per_minute: int = 1200
    anonymous_rate_per_minute: int = 120
