"""R24: the training/R&D loader refuses production stores, whatever they are called."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from facegate.deployment import Deployment
from facegate.errors import ProductionDataRefused
from facegate.fitness.research import is_production_store, training_images


def test_r24_training_loader_refuses_the_production_store(
        books: Deployment, tmp_path: Path, faces: dict[str, Path]) -> None:
    store = tmp_path / "facegate.db"
    for path in (store, tmp_path, tmp_path / "facegate.db-wal"):
        with pytest.raises(ProductionDataRefused) as exc:
            training_images(path)
        assert exc.value.code == "research.production_data"
        assert exc.value.details["rule"] == "R24"
    # Renaming the store does not hide it.
    research = tmp_path / "research"
    research.mkdir()
    shutil.copy(faces["obama"], research / "a.jpg")
    disguised = research / "images.bin"
    books.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(store, disguised)
    with pytest.raises(ProductionDataRefused):
        training_images(research)
    # Allowed: a folder of images.
    disguised.unlink()
    assert training_images(research) == [research / "a.jpg"]
    assert training_images(faces["obama"].parent)  # the shared sample photos


def test_other_sqlite_files_are_not_production_stores(
        tmp_path: Path, open_deployment: Callable[..., Deployment]) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert not is_production_store(other)
    open_deployment("prod.db")
    assert is_production_store(tmp_path / "prod.db")
