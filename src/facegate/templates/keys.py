"""Per-subject data keys, kept in the store only wrapped by a key-encryption key.

Every template and retained image of a subject is sealed under that subject's
data key. Erasing the subject deletes the wrapped key (crypto-shredding):
with ``PRAGMA secure_delete`` the row's bytes are overwritten in the file.
"""

from __future__ import annotations

from datetime import datetime

from ..audit.integrity import RowGuard
from ..crypto.keyring import KeyRing
from ..errors import KeyMissing
from ..storage.connection import Connection

__all__ = ["DataKeys", "delete_data_key", "has_wrapped_keys", "kek_ids_in_use", "rewrap_data_keys"]


class DataKeys:
    """The data keys of one unit of work: unwrapped on first use, created on demand; and
    the unit's :class:`~facegate.audit.integrity.RowGuard`, which tags the template rows
    written and checks those read.

    Args:
        conn: the store, inside the caller's transaction.
        ring: the key ring that wraps and unwraps.
        now: the time recorded for a new key.
        guard: the row tags of this unit of work.
    """

    def __init__(self, conn: Connection, *, ring: KeyRing, now: datetime,
                 guard: RowGuard) -> None:
        self._conn = conn
        self._ring = ring
        self._now = now
        self.guard = guard
        self._cache: dict[str, bytes | None] = {}

    def find(self, subject_id: str) -> bytes | None:
        """The subject's data key, or ``None`` when it was erased (or never made)."""
        if subject_id not in self._cache:
            row = self._conn.execute("SELECT kek_id, wrapped FROM subject_keys WHERE "
                                     "subject_id = ?", (subject_id,)).fetchone()
            self._cache[subject_id] = None if row is None else self._ring.unwrap(
                bytes(row[1]), kek=str(row[0]), subject_id=subject_id)
        return self._cache[subject_id]

    def get(self, subject_id: str) -> bytes:
        """The subject's data key, made and stored (wrapped) when the subject has none.

        Raises:
            KeyMissing: the KEK that wrapped the key is not in the ring.
            CryptoInvalid: the wrapped key was altered or moved to another subject.
        """
        key = self.find(subject_id)
        if key is None:
            key, kek, wrapped = self._ring.new_data_key(subject_id=subject_id)
            self._conn.execute("INSERT INTO subject_keys (subject_id, kek_id, wrapped, "
                               "created_at) VALUES (?, ?, ?, ?)",
                               (subject_id, kek, wrapped, self._now.isoformat()))
            self._cache[subject_id] = key
        return key

    def require(self, subject_id: str) -> bytes:
        """The subject's existing data key.

        Raises:
            KeyMissing: the subject has no data key (it was erased).
        """
        key = self.find(subject_id)
        if key is None:
            raise KeyMissing(f"subject {subject_id} has no data key (erased)",
                             details={"subject": subject_id})
        return key


def rewrap_data_keys(conn: Connection, *, ring: KeyRing) -> int:
    """Re-wrap every data key not under ``ring.active``; returns how many."""
    rows = conn.execute("SELECT subject_id, kek_id, wrapped FROM subject_keys WHERE kek_id != ?",
                        (ring.active,)).fetchall()
    for subject_id, kek, wrapped in rows:
        key = ring.unwrap(bytes(wrapped), kek=str(kek), subject_id=str(subject_id))
        new_kek, new_wrapped = ring.wrap(key, subject_id=str(subject_id))
        conn.execute("UPDATE subject_keys SET kek_id = ?, wrapped = ? WHERE subject_id = ?",
                     (new_kek, new_wrapped, subject_id))
    return len(rows)


def delete_data_key(conn: Connection, *, subject_id: str) -> int:
    """Destroy the subject's wrapped data key; returns 1 if there was one."""
    return conn.execute("DELETE FROM subject_keys WHERE subject_id = ?",
                        (subject_id,)).rowcount


def kek_ids_in_use(conn: Connection) -> set[str]:
    """The ids of the KEKs that wrap at least one data key."""
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT kek_id FROM subject_keys")}


def has_wrapped_keys(conn: Connection) -> bool:
    """Whether the store holds any wrapped data key (it then needs its key file)."""
    return conn.execute("SELECT 1 FROM subject_keys LIMIT 1").fetchone() is not None


