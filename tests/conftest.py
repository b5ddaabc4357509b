"""Shared fixtures: the real sample faces from ../shared/data and one engine per session."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.engine.dlib_engine import DlibEngine

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$FACEGATE_DATA`` or ``../shared/data`` beside the repository, if it holds the samples."""
    for candidate in (os.environ.get("FACEGATE_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "samples" / "labels.csv").is_file():
            return Path(candidate)
    return None


SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared/data (labelled sample faces) is not present beside the repo"
)


@pytest.fixture(scope="session")
def shared() -> Path:
    if SHARED is None:
        pytest.skip("../shared/data (labelled sample faces) is not present beside the repo")
    return SHARED


@pytest.fixture(scope="session")
def samples(shared: Path) -> Path:
    return shared / "samples"


@pytest.fixture(scope="session")
def sample_labels(samples: Path) -> list[dict[str, str]]:
    with (samples / "labels.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def engine() -> DlibEngine:
    return DlibEngine()


@pytest.fixture(scope="session")
def analyzer(engine: DlibEngine) -> FaceAnalyzer:
    return FaceAnalyzer(engine)
