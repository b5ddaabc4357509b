"""The LFW protocol code in bench/lfw.py: pairs parsing, threshold choice, rates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "lfw.py"


@pytest.fixture(scope="module")
def lfw() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_lfw", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_lfw"] = module
    spec.loader.exec_module(module)
    return module


def test_view1_pairs_file(lfw: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "pairsDevTest.txt"
    path.write_text("2\nAbel_Pacheco\t1\t4\nAbel_Pacheco\t2\t3\n"
                    "Ann\t1\tBob_X\t12\nCid\t3\tDan\t1\n")
    pairs = lfw.read_pairs(path)
    assert [p.same for p in pairs] == [True, True, False, False]
    assert pairs[0].a == "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    assert pairs[0].b == "Abel_Pacheco/Abel_Pacheco_0004.jpg"
    assert pairs[2].b == "Bob_X/Bob_X_0012.jpg"
    assert {p.fold for p in pairs} == {0}


def test_view2_pairs_file_has_ten_folds(lfw: ModuleType, tmp_path: Path) -> None:
    lines = ["10\t2"]
    for fold in range(10):
        lines += [f"P{fold}\t1\t2", f"Q{fold}\t1\t3", f"A{fold}\t1\tB{fold}\t1",
                  f"C{fold}\t1\tD{fold}\t2"]
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join(lines) + "\n")
    pairs = lfw.read_pairs(path)
    assert len(pairs) == 40
    assert [p.fold for p in pairs[:5]] == [0, 0, 0, 0, 1]
    assert sum(p.same for p in pairs if p.fold == 9) == 2


def test_wrong_pair_count_is_refused(lfw: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("2\nA\t1\t2\n")
    with pytest.raises(SystemExit):
        lfw.read_pairs(path)


def test_threshold_separates_and_missing_faces_count_as_errors(lfw: ModuleType) -> None:
    dist = np.array([0.2, 0.3, 0.35, np.nan, 0.5, 0.6, 0.7, 0.45])
    same = np.array([True, True, True, True, False, False, False, False])
    t = lfw.best_threshold(dist, same)
    assert 0.35 < t < 0.45
    r = lfw.rates(dist, same, t)
    assert r["errors"] == 1  # the same-person pair without a face
    assert r["fmr"] == 0.0 and r["fnmr"] == 0.25
    assert r["accuracy"] == 7 / 8
