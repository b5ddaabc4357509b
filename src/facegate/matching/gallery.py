"""The galleries of a running deployment: one in-memory index per (purpose, pack).

A :class:`Galleries` object lives as long as its
:class:`~facegate.deployment.Deployment`. An index is built on the first
identification of a purpose, from the purpose's templates opened with their
data keys, and is held in memory only: nothing of it is written to disk. The
deployment keeps it current after its own writes (enroll, withdrawal, erasure,
retention sweep); a write by another process is noticed from the templates
table's row count and highest row id for the purpose, and the index is then
rebuilt. On SQLite that count is taken only when ``data_version`` says another
connection committed; on PostgreSQL, which has no such counter, it is taken at
every identification (one indexed aggregate per built purpose). Writers are
serialised (:func:`facegate.storage.db.transaction`), so ids grow in commit
order and any insert or delete changes the stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from ..engine.packs import get_pack
from ..storage.connection import Connection
from ..storage.db import data_version
from ..templates.keys import DataKeys
from ..templates.store import list_templates
from .index import GalleryIndex, IndexEntry, Matrix

__all__ = ["Galleries", "GalleryKey"]

#: (purpose key, model pack, pack version)
GalleryKey = tuple[str, str, str]


def _stamp(conn: Connection, purpose_key: str) -> tuple[int, int]:
    row = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM templates "
                       "WHERE purpose_key = ?", (purpose_key,)).fetchone()
    return int(row[0]), int(row[1])


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

    Args:
        approximate_from: passed to each :class:`GalleryIndex`.
    """

    def __init__(self, *, approximate_from: int | None = None) -> None:
        self._approximate_from = approximate_from
        self._indexes: dict[GalleryKey, GalleryIndex] = {}
        self._stamps: dict[str, tuple[int, int]] = {}
        self._data_version: int | None = None

    def built(self) -> list[GalleryKey]:
        """The galleries that have an index in memory now."""
        return sorted(self._indexes)

    def get(self, conn: Connection, *, keys: DataKeys, purpose_key: str, pack: str,
            pack_version: str, now: datetime) -> GalleryIndex:
        """The index of ``purpose_key``'s templates of ``pack``, built or rebuilt as needed.

        Another connection's commit changes SQLite's ``data_version``; only then are the
        purpose's templates counted again to see whether the index is stale. On
        PostgreSQL they are counted every time.
        """
        version = data_version(conn)
        if version is None or version != self._data_version:
            self._data_version = version
            for purpose in list(self._stamps):
                if self._stamps[purpose] != _stamp(conn, purpose):
                    self.forget(purpose)
        gallery = (purpose_key, pack, pack_version)
        index = self._indexes.get(gallery)
        if index is None:
            index = self._build(conn, keys=keys, purpose_key=purpose_key, pack=pack,
                                pack_version=pack_version, now=now)
            self._indexes[gallery] = index
            self._stamps[purpose_key] = _stamp(conn, purpose_key)
        return index

    def _build(self, conn: Connection, *, keys: DataKeys, purpose_key: str, pack: str,
               pack_version: str, now: datetime) -> GalleryIndex:
        entries, vectors = _rows(conn, keys=keys, purpose_key=purpose_key, pack=pack,
                                 pack_version=pack_version, now=now)
        kwargs = {} if self._approximate_from is None else {
            "approximate_from": self._approximate_from}
        return GalleryIndex.build(entries, vectors, dim=vectors.shape[1], **kwargs)

    # -- keeping step with the deployment's own writes ------------------------------------

    def enrolled(self, conn: Connection, *, keys: DataKeys, purpose_key: str,
                 subject_id: str, now: datetime) -> None:
        """After an enrollment committed: the subject's templates of that purpose are re-read."""
        for (p, pack, version), index in self._indexes.items():
            if p != purpose_key:
                continue
            index.remove_subject(subject_id)
            index.add(*_rows(conn, keys=keys, purpose_key=p, pack=pack, pack_version=version,
                             now=now, subject_id=subject_id))
        self._restamp(conn, purpose_key)

    def subject_removed(self, conn: Connection, subject_id: str,
                        purposes: Iterable[str] | None = None) -> int:
        """After erasure (every purpose) or withdrawal (one): drop the subject's vectors."""
        wanted = None if purposes is None else set(purposes)
        gone = 0
        for (p, _, _), index in self._indexes.items():
            if wanted is None or p in wanted:
                gone += index.remove_subject(subject_id)
        for p in list(self._stamps):
            if wanted is None or p in wanted:
                self._restamp(conn, p)
        return gone

    def expired(self, conn: Connection, now: datetime) -> int:
        """After a retention sweep: drop every template past its expiry."""
        gone = sum(index.remove_expired(now) for index in self._indexes.values())
        for p in list(self._stamps):
            self._restamp(conn, p)
        return gone

    def forget(self, purpose_key: str | None = None) -> None:
        """Drop the indexes of one purpose (or all); they are rebuilt when next needed."""
        for gallery in [g for g in self._indexes if purpose_key in (None, g[0])]:
            del self._indexes[gallery]
        if purpose_key is None:
            self._stamps.clear()
        else:
            self._stamps.pop(purpose_key, None)

    def _restamp(self, conn: Connection, purpose_key: str) -> None:
        if any(g[0] == purpose_key for g in self._indexes):
            self._stamps[purpose_key] = _stamp(conn, purpose_key)
