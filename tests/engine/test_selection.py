"""The default pack: the best-measured installed pack for a population, not a constant."""

from __future__ import annotations

from pathlib import Path

import pytest

from facegate import DEFAULT_PACK
from facegate.analysis import AnalyzerSettings, FaceAnalyzer
from facegate.calibration.shipped import (
    EAST_ASIAN_ADULTS,
    LFW_VIEW1,
    shipped_calibration,
    shipped_calibrations,
)
from facegate.engine.pack_install import is_installed
from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1, PACKS
from facegate.engine.selection import best_pack


def test_without_the_arcface_pack_the_default_is_dlib(tmp_path: Path) -> None:
    empty_cache = tmp_path / "cache"
    assert best_pack(EAST_ASIAN_ADULTS, cache_dir=empty_cache) == DEFAULT_PACK
    assert best_pack(LFW_VIEW1, cache_dir=empty_cache) == DEFAULT_PACK
    assert best_pack("no-such-population", cache_dir=empty_cache) == DEFAULT_PACK


def test_the_default_is_the_lowest_fnmr_at_the_shipped_calibrations() -> None:
    for population in (EAST_ASIAN_ADULTS, LFW_VIEW1):
        installed = [p for p in PACKS.values() if not p.installable or is_installed(p)]
        fnmr = {p.id: shipped_calibration(p.id, p.version, population) for p in installed}
        expected = min((c.fnmr_value, pack) for pack, c in fnmr.items() if c is not None)[1]
        assert best_pack(population) == expected


def test_the_arcface_pack_measures_better_on_both_populations() -> None:
    for population in (EAST_ASIAN_ADULTS, LFW_VIEW1):
        dlib = shipped_calibration(DEFAULT_PACK, "1.0", population)
        arcface = shipped_calibration(FACEPLUGIN_ARCFACE_V1.id, FACEPLUGIN_ARCFACE_V1.version,
                                      population)
        assert dlib is not None and arcface is not None
        assert arcface.fnmr_value < dlib.fnmr_value


def test_every_shipped_pack_ships_both_population_calibrations() -> None:
    for pack in PACKS.values():
        for population in (LFW_VIEW1, EAST_ASIAN_ADULTS):
            c = shipped_calibration(pack.id, pack.version, population)
            assert c is not None, (pack.id, population)
            lo, hi = c.fmr_interval
            assert lo <= c.fmr["value"] <= hi and c.fmr["value"] <= c.target_fmr
            assert c.fmr["trials"] == c.impostor_pairs and c.fnmr["trials"] == c.genuine_pairs
            assert c.dataset and len(c.fingerprint) == 64 and c.checks
            assert c.fmr_at(c.threshold) <= c.target_fmr
            assert c.quality["min_face_size"] > 0 and c.quality["max_yaw"] > 0
    assert len(shipped_calibrations()) == 2 * len(PACKS)


def test_the_default_analyzer_names_its_pack_and_population_threshold() -> None:
    analyzer = FaceAnalyzer()
    assert analyzer.pack.id == best_pack(EAST_ASIAN_ADULTS)
    shipped = shipped_calibration(analyzer.pack.id, analyzer.pack.version, EAST_ASIAN_ADULTS)
    assert shipped is not None and analyzer.threshold == shipped.threshold
    assert "east-asian-adults" in analyzer.threshold_source
    lfw = FaceAnalyzer(analyzer.engine, settings=AnalyzerSettings(population=LFW_VIEW1))
    on_lfw = shipped_calibration(analyzer.pack.id, analyzer.pack.version, LFW_VIEW1)
    assert on_lfw is not None and lfw.threshold == on_lfw.threshold
    assert FaceAnalyzer(analyzer.engine, settings=AnalyzerSettings(threshold=0.5)).threshold == 0.5


@pytest.mark.parametrize("population", ["nobody-measured"])
def test_a_population_without_calibrations_falls_back_to_the_packs_default(
        population: str) -> None:
    analyzer = FaceAnalyzer(settings=AnalyzerSettings(population=population))
    assert analyzer.pack.id == DEFAULT_PACK
    assert analyzer.threshold == PACKS[DEFAULT_PACK].default_threshold
