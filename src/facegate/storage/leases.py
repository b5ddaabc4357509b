"""Named leases in the store: work that one process of a deployment does at a time.

A lease is a row (name, holder, until). :func:`take_lease` takes it when it is
free or expired, in one conditional ``UPDATE``: of several processes asking at
once, exactly one gets it, and nobody (its holder included) gets it again
before it expires; so a lease taken for an interval means "once per interval".
A holder that dies keeps it only until it expires. The caller owns the
transaction.
"""

from __future__ import annotations

from .connection import Connection

__all__ = ["take_lease"]


def take_lease(conn: Connection, *, name: str, holder: str, seconds: float,
               now: float) -> bool:
    """Take lease ``name`` for ``holder`` until ``now + seconds`` if it has expired; whether
    it was granted."""
    conn.execute("INSERT INTO leases (name, holder, until_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (name) DO NOTHING", (name, "", 0.0))
    return conn.execute("UPDATE leases SET holder = ?, until_at = ?, ran_at = ? "
                        "WHERE name = ? AND until_at < ?",
                        (holder, now + seconds, str(now), name, now)).rowcount == 1
