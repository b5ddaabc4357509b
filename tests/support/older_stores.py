"""Stores in the forms older facegate releases left on disk, made from a current one.

* :func:`to_plain_form`: before protected storage. Descriptors plain (no ``uid``),
  the log unchained (no hashes, no checkpoint), no wrapped data keys, no key file,
  no row tags: what the schema migrations leave of a store written then.
* :func:`to_v1_form`: before row tags. Sealed templates, a chained log whose head is
  signed over the v1 message (seq and head, no table state), no tags: as the release
  before this one wrote it, with the same keys.

The rows themselves are real (written by the current deployment from real faces);
only what the older form did not have is taken away, and the v1 checkpoint is signed
with the store's own audit key, as that release signed it.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

from facegate.audit.chain import checkpoint_message
from facegate.crypto.keyring import Signer

_ZERO = "0" * 64


def _untag(conn: sqlite3.Connection) -> None:
    for table in ("templates", "consent_events", "audit_events", "api_keys"):
        conn.execute(f"UPDATE {table} SET mac = NULL")
    conn.execute("DELETE FROM subject_digests")  # the older forms kept no digests
    conn.execute("UPDATE row_digests SET row_count = 0, digest = ?", (_ZERO,))


def to_plain_form(db: Path, plain_descriptors: dict[str, bytes]) -> None:
    """Rewrite the store at ``db`` as facegate wrote it before protected storage:
    ``plain_descriptors`` (template uid -> the descriptor's plain bytes) replace the sealed
    ones, and the key file is removed."""
    with sqlite3.connect(db) as conn:
        for uid, plain in plain_descriptors.items():
            conn.execute("UPDATE templates SET descriptor = ?, uid = NULL, consent_seq = NULL "
                         "WHERE uid = ?", (plain, uid))
        conn.execute("UPDATE audit_events SET hash = NULL")
        conn.execute("DELETE FROM audit_checkpoint")
        conn.execute("DELETE FROM subject_keys")
        conn.execute("DELETE FROM retained_images")
        _untag(conn)
    conn.close()
    Path(f"{db}.keys").unlink()


def to_v1_form(db: Path) -> None:
    """Rewrite the store at ``db`` as the release before row tags wrote it: no tags, the
    checkpoint signed over its seq and head only (with the store's own audit key)."""
    keys = json.loads(Path(f"{db}.keys").read_text("utf-8"))
    signer = Signer(base64.b64decode(keys["audit_signing_key"]))
    with sqlite3.connect(db) as conn:
        _untag(conn)
        seq, head = conn.execute("SELECT seq, head FROM audit_checkpoint").fetchone()
        conn.execute("UPDATE audit_checkpoint SET state = NULL, signature = ?",
                     (signer.sign(checkpoint_message(seq, head)),))
    conn.close()
