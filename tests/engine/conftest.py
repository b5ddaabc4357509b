"""Fixtures of the ONNX engine tests: model files, a per-session model cache, real faces.

dlib is optional: tests that compare with it use ``dlib_ref`` and skip when it
is not installed. Real faces come from ``../shared/data`` (or
``$FACEGATE_DATA``); tests needing them skip with that reason when absent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from facegate.engine.model_files import default_models_dir
from facegate.engine.onnx_engine import OnnxEngine

REPO = Path(__file__).resolve().parents[2]
NO_DATA = "../shared/data (LFW and sample faces) is not present beside the repository"


def _data_dir() -> Path | None:
    for candidate in (os.environ.get("FACEGATE_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "lfw").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return default_models_dir()


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the whole session, so each model converts once."""
    return tmp_path_factory.mktemp("facegate-cache")


@pytest.fixture(scope="session")
def onnx_engine(onnx_cache: Path) -> OnnxEngine:
    return OnnxEngine(cache_dir=onnx_cache, threads=1)


@pytest.fixture(scope="session")
def dlib_ref() -> Any:
    return pytest.importorskip("dlib", reason="dlib is not installed (pip install -e '.[dlib]')")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = _data_dir()
    if data is None:
        pytest.skip(NO_DATA)
    return data


@pytest.fixture(scope="session")
def face_images(shared_data: Path) -> list[Path]:
    """A fixed sample of real photos: LFW (250x250) and larger phone photos."""
    lfw = sorted((shared_data / "lfw").glob("*/*.jpg"))[::400]
    samples = sorted((shared_data / "samples").rglob("*.jpg"))[:6]
    return lfw + samples
