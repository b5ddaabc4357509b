"""The galleries of a running deployment: one in-memory index per (purpose, pack).

A :class:`Galleries` object lives as long as its
:class:`~facegate.deployment.Deployment`. An index is built on the first
identification of a purpose, from the purpose's templates opened with their
data keys, and is held in memory only: nothing of it is written to disk.

Every write to the ``templates`` table, by any process, appends a row to
``gallery_changes`` in the same transaction (purpose, subject;
:func:`facegate.templates.store.log_gallery_changes`). :meth:`Galleries.sync`
applies, in order, every change after the last one it applied: the subject's
templates of that purpose are read again (so an enrollment adds them, and a
withdrawal, erasure or expiry takes them out). Writers are serialised, so the
sequence grows in commit order and a reader that has applied up to ``n`` has
seen every change up to ``n``. Identification syncs under the writer lock
before it searches, so it is never staler than the last commit; the deployment
also syncs after its own writes, and the service runs a background follower
that syncs when another process commits (on PostgreSQL woken by
``LISTEN``/``NOTIFY``), so rebuilding work stays off the request path.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np

from ..engine.packs import get_pack
from ..storage.connection import Connection
from ..templates.keys import DataKeys
from ..templates.store import list_templates
from .index import GalleryIndex, IndexEntry, Matrix

__all__ = ["Galleries", "GalleryKey"]

#: (purpose key, model pack, pack version)
GalleryKey = tuple[str, str, str]


def _latest(conn: Connection) -> tuple[int | None, int | None]:
    row = conn.execute("SELECT min(seq), max(seq) FROM gallery_changes").fetchone()
    return (None if row[0] is None else int(row[0]), None if row[1] is None else int(row[1]))


def _rows(conn: Connection, *, keys: DataKeys, purpose_key: str, pack: str,
          pack_version: str, now: datetime,
          subject_id: str | None = None) -> tuple[list[IndexEntry], Matrix]:
    """The opened templates of one gallery (optionally one subject's) as index rows."""
    rows = [t for t in list_templates(conn, keys=keys, purpose_key=purpose_key, now=now,
                                      subject_id=subject_id)
            if (t.descriptor.pack, t.descriptor.pack_version) == (pack, pack_version)]
    entries = [IndexEntry(subject_id=t.subject_id, expires_at=t.expires_at) for t in rows]
    if not rows:
        return entries, np.zeros((0, get_pack(pack).descriptor_size), dtype=np.float32)
    return entries, np.stack([t.descriptor.vector for t in rows]).astype(np.float32)


class Galleries:
    """Every built gallery index of one deployment, kept in step with the store.

    Safe across threads: every method holds :attr:`lock` (an identification holds it
    from :meth:`get` to the end of its search).

    Args:
        approximate_from: passed to each :class:`GalleryIndex`.
    """

    def __init__(self, *, approximate_from: int | None = None) -> None:
        self._approximate_from = approximate_from
        self._indexes: dict[GalleryKey, GalleryIndex] = {}
        #: the last ``gallery_changes`` sequence number applied
        self._seen: int | None = None
        self.lock = threading.RLock()

    def built(self) -> list[GalleryKey]:
        """The galleries that have an index in memory now."""
        with self.lock:
            return sorted(self._indexes)

    def sizes(self) -> dict[GalleryKey, int]:
        """Templates in each built index."""
        with self.lock:
            return {g: len(index) for g, index in self._indexes.items()}

    @property
    def applied(self) -> int | None:
        """The last change applied (``None`` before any index was built)."""
        return self._seen

    def sync(self, conn: Connection, *, keys: DataKeys, now: datetime) -> int:
        """Apply every change committed after the last one applied; returns how many.

        ``conn`` must see one moment of the store (a snapshot or the writer's
        transaction), so that the changes and the templates read agree.
        """
        with self.lock:
            low, high = _latest(conn)
            if high is None or (self._seen is not None and high <= self._seen):
                return 0
            if not self._indexes or self._seen is None:
                self._seen = high
                return 0
            if low is not None and low > self._seen + 1:
                # Changes this process never saw were trimmed: start again from the store.
                self._indexes.clear()
                self._seen = high
                return 0
            rows = conn.execute("SELECT seq, purpose_key, subject_id FROM gallery_changes "
                                "WHERE seq > ? ORDER BY seq", (self._seen,)).fetchall()
            for seq, purpose, subject in rows:
                self._apply(conn, keys=keys, purpose_key=str(purpose),
                            subject_id=None if subject is None else str(subject), now=now)
                self._seen = int(seq)
            return len(rows)

    def _apply(self, conn: Connection, *, keys: DataKeys, purpose_key: str,
               subject_id: str | None, now: datetime) -> None:
        for (p, pack, version), index in list(self._indexes.items()):
            if p != purpose_key:
                continue
            if subject_id is None:
                del self._indexes[(p, pack, version)]
                continue
            index.remove_subject(subject_id)
            index.add(*_rows(conn, keys=keys, purpose_key=p, pack=pack, pack_version=version,
                             now=now, subject_id=subject_id))

    def get(self, conn: Connection, *, keys: DataKeys, purpose_key: str, pack: str,
            pack_version: str, now: datetime) -> GalleryIndex:
        """The index of ``purpose_key``'s templates of ``pack``, current as of ``conn``'s
        view of the store: every change is applied first, and an index not built yet is
        built now."""
        with self.lock:
            self.sync(conn, keys=keys, now=now)
            gallery = (purpose_key, pack, pack_version)
            index = self._indexes.get(gallery)
            if index is None:
                if self._seen is None:
                    self._seen = _latest(conn)[1] or 0
                index = self._build(conn, keys=keys, purpose_key=purpose_key, pack=pack,
                                    pack_version=pack_version, now=now)
                self._indexes[gallery] = index
            return index

    def _build(self, conn: Connection, *, keys: DataKeys, purpose_key: str, pack: str,
               pack_version: str, now: datetime) -> GalleryIndex:
        entries, vectors = _rows(conn, keys=keys, purpose_key=purpose_key, pack=pack,
                                 pack_version=pack_version, now=now)
        kwargs = {} if self._approximate_from is None else {
            "approximate_from": self._approximate_from}
        return GalleryIndex.build(entries, vectors, dim=vectors.shape[1], **kwargs)

    def expired(self, now: datetime) -> int:
        """Drop every entry past its expiry now (the sweep's own changes follow by sync)."""
        with self.lock:
            return sum(index.remove_expired(now) for index in self._indexes.values())

    def forget(self, purpose_key: str | None = None) -> None:
        """Drop the indexes of one purpose (or all); they are rebuilt when next needed."""
        with self.lock:
            for gallery in [g for g in self._indexes if purpose_key in (None, g[0])]:
                del self._indexes[gallery]
