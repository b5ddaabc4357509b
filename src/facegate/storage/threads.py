"""One store connection per thread, so that calls on several threads run at once.

A :class:`~facegate.deployment.Deployment` used by a service answers requests on
many threads. Each thread gets a connection of its own, opened on its first use
(the opening thread keeps the connection that opened and migrated the store); a
transaction therefore never spans two threads, and reads on one thread never
wait for a write on another (SQLite in WAL mode, PostgreSQL's MVCC). Writers
still take the store's writer lock (:func:`facegate.storage.db.transaction`),
so the guarantees of one transaction per call hold across threads as they do
across processes.

A thread's connection is closed when the thread ends (its thread-local holder is
collected) and all of them by :meth:`ThreadConnections.close`.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable

from ..errors import StorageError
from .connection import Connection

__all__ = ["ThreadConnections"]


class _Holder:
    """Lives in a thread's local storage; collected when the thread ends."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class ThreadConnections:
    """The connections of one deployment, one per thread.

    Args:
        first: the connection that opened the store; it belongs to the calling thread.
        open_more: opens a further connection to the same store; ``None`` makes every
            thread share ``first`` (only for single-threaded use).
    """

    def __init__(self, first: Connection, open_more: Callable[[], Connection] | None) -> None:
        self._open_more = open_more
        self._first = first
        self._local = threading.local()
        self._local.holder = _Holder(first)
        self._lock = threading.Lock()
        self._others: dict[int, Connection] = {}
        self._closed = False

    def get(self) -> Connection:
        """The calling thread's connection, opened now when it has none."""
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is not None:
            return holder.conn
        if self._closed:
            raise StorageError("the store was closed")
        if self._open_more is None:
            return self._first
        conn = self._open_more()
        holder = _Holder(conn)
        with self._lock:
            self._others[id(holder)] = conn
        weakref.finalize(holder, self._release, id(holder))
        self._local.holder = holder
        return conn

    @property
    def open_count(self) -> int:
        """Connections open now (the first one included)."""
        with self._lock:
            return 1 + len(self._others)

    def _release(self, key: int) -> None:
        with self._lock:
            conn = self._others.pop(key, None)
        if conn is not None:
            _close_quietly(conn)

    def close(self) -> None:
        """Close every connection; further use from a new thread is refused."""
        self._closed = True
        with self._lock:
            others = list(self._others.values())
            self._others.clear()
        for conn in others:
            _close_quietly(conn)
        self._first.close()


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        conn.close()
