"""Where the shared test data lies: ``$FACEGATE_DATA`` or ``../shared/data`` beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    """``$FACEGATE_DATA`` or ``../shared/data`` beside the repository, if it holds the samples."""
    for candidate in (os.environ.get("FACEGATE_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "samples" / "labels.csv").is_file():
            return Path(candidate)
    return None
