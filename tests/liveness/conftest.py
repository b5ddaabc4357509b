"""The attack generators of ``bench/liveness.py``, loaded as a module for the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "liveness.py"


@pytest.fixture(scope="session")
def attacks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_liveness", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
