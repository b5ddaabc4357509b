"""Helpers for the protected-storage tests: what is on disk, and consistent copies."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from facegate.deployment import Deployment

JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"


def files_on_disk(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the store, its WAL and shm, the key file...), by name."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def windows(data: bytes, size: int = 16) -> list[bytes]:
    """A few ``size``-byte windows of ``data``: start, middle and end."""
    return [data[i:i + size] for i in (0, len(data) // 3, len(data) // 2, len(data) - size)]


def backup(d: Deployment, folder: Path) -> Path:
    """A consistent copy of the store and its key file in ``folder``, as a backup would be."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "facegate.db"
    with sqlite3.connect(target) as copy:
        d.connection.backup(copy)
    copy.close()
    db = Path(d.connection.execute("PRAGMA database_list").fetchone()[2])
    shutil.copy2(f"{db}.keys", folder / "facegate.db.keys")
    return target
