"""Retained raw images: only with a separate ``retain_image`` consent, only sealed (R10).

Without that consent no image is written anywhere. With it, the decoded,
upright image is re-encoded as PNG (so no EXIF or other metadata of the
original survives) and sealed under the subject's data key with its own
associated data (image uid, template uid, subject, purpose). It expires and
is erased with its template.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from PIL import Image as PILImage

from ..crypto.envelope import associated_data, open_sealed, seal
from ..images import Image
from ..storage.connection import Connection
from .keys import DataKeys
from .store import new_uid

__all__ = ["delete_expired_images", "delete_images", "image_metadata", "open_image",
           "store_image"]

_MEDIA_TYPE = "image/png"


def _ad(uid: str, template_uid: str, subject_id: str, purpose_key: str) -> bytes:
    return associated_data("image", uid, template_uid, subject_id, purpose_key, _MEDIA_TYPE)


def store_image(conn: Connection, *, keys: DataKeys, image: Image, template_uid: str,
                subject_id: str, purpose_key: str, now: datetime, expires_at: datetime) -> str:
    """Seal and store the image kept with template ``template_uid``; returns its uid."""
    buffer = io.BytesIO()
    PILImage.fromarray(image.pixels).save(buffer, format="PNG")
    uid = "i_" + new_uid()[2:]
    blob = seal(keys.get(subject_id), buffer.getvalue(),
                _ad(uid, template_uid, subject_id, purpose_key))
    conn.execute("INSERT INTO retained_images (uid, template_uid, subject_id, purpose_key, "
                 "media_type, image, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (uid, template_uid, subject_id, purpose_key, _MEDIA_TYPE, blob,
                  now.isoformat(), expires_at.isoformat()))
    return uid


def open_image(conn: Connection, *, keys: DataKeys, uid: str) -> bytes:
    """The PNG bytes of a retained image.

    Raises:
        KeyMissing: its subject was erased.
        CryptoInvalid: the row was altered or moved.
    """
    row = conn.execute("SELECT template_uid, subject_id, purpose_key, image FROM "
                       "retained_images WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise KeyError(uid)
    template_uid, subject_id, purpose_key, blob = row
    return open_sealed(keys.require(str(subject_id)), bytes(blob),
                       _ad(uid, str(template_uid), str(subject_id), str(purpose_key)))


def image_metadata(conn: Connection, *, subject_id: str) -> list[dict[str, Any]]:
    """What is stored about each of the subject's retained images, without the image."""
    rows = conn.execute("SELECT uid, template_uid, purpose_key, media_type, length(image), "
                        "created_at, expires_at FROM retained_images WHERE subject_id = ? "
                        "ORDER BY created_at, uid", (subject_id,))
    names = ("uid", "template", "purpose", "media_type", "sealed_bytes", "created_at",
             "expires_at")
    return [dict(zip(names, r, strict=True)) for r in rows]


def delete_images(conn: Connection, *, subject_id: str,
                  purpose_key: str | None = None) -> int:
    """Delete a subject's retained images (for one purpose, or all); returns how many."""
    if purpose_key is None:
        return conn.execute("DELETE FROM retained_images WHERE subject_id = ?",
                            (subject_id,)).rowcount
    return conn.execute("DELETE FROM retained_images WHERE subject_id = ? AND purpose_key = ?",
                        (subject_id, purpose_key)).rowcount


def delete_expired_images(conn: Connection, *, now: datetime) -> int:
    """Delete every retained image past its expiry; returns how many."""
    return conn.execute("DELETE FROM retained_images WHERE expires_at <= ?",
                        (now.isoformat(),)).rowcount
