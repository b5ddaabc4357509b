"""Training and R&D data, kept apart from production stores (R24).

CN Art. 2 leaves FR research and algorithm training outside the Measures, but
PIPL still applies: production templates are collected for a purpose, with
consent for that purpose, and are not training data. :func:`training_images`
lists the images of a research folder and refuses any path that is, or
contains, a facegate production store (recognised by its SQLite
``application_id``), whatever its file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from ..errors import ImageNotFound, ProductionDataRefused
from ..jurisdictions import CN_2025, JurisdictionProfile
from ..storage.db import APPLICATION_ID

__all__ = ["IMAGE_SUFFIXES", "is_production_store", "training_images"]

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"


def is_production_store(path: Path) -> bool:
    """Whether ``path`` is a facegate store (or its ``-wal``/``-shm`` companion)."""
    for name in (path.name.removesuffix("-wal").removesuffix("-shm"), path.name):
        candidate = path.with_name(name)
        try:
            with candidate.open("rb") as f:
                header = f.read(72)
        except OSError:
            continue
        if (header[:16] == _SQLITE_MAGIC and len(header) >= 72
                and int.from_bytes(header[68:72], "big") == APPLICATION_ID):
            return True
    return False


def training_images(root: str | Path, *,
                    profile: JurisdictionProfile = CN_2025) -> list[Path]:
    """The image files under ``root``, for training or evaluation.

    Raises:
        ProductionDataRefused: ``root`` is or holds a production store (R24).
        ImageNotFound: ``root`` does not exist.
    """
    base = Path(root)
    if not base.exists():
        raise ImageNotFound(f"no such folder: {base}", details={"path": str(base)})
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    for path in files:
        if is_production_store(path):
            raise ProductionDataRefused(
                f"{path} is a facegate production store; production templates are never "
                "training data",
                details={"rule": "R24", "jurisdiction": profile.key,
                         "article": profile.article("R24"), "path": str(path)})
    return [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
