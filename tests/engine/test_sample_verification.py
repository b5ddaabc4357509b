"""Verification on the labelled sample photos at the default threshold.

Every pair of single-face photos of the same named person must be accepted and
every pair of different people refused. Pairs cut from the same original
photograph (same ``same_photo_group`` within one source) are skipped, as the
samples README asks, and so are byte copies.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.comparison import compare_descriptors
from facegate.engine.faces import Descriptor


@pytest.fixture(scope="module")
def described(analyzer: FaceAnalyzer, samples: Path,
              sample_labels: list[dict[str, str]]) -> list[tuple[dict[str, str], Descriptor]]:
    rows = [r for r in sample_labels if r["task"] == "identity" and r["identities"]]
    seen: set[str] = set()
    out = []
    for row in rows:
        if row["sha256"] in seen:
            continue
        seen.add(row["sha256"])
        descriptor = analyzer.embed_single(samples / row["path"]).descriptor
        assert descriptor is not None
        out.append((row, descriptor))
    return out


def _same_photo(a: dict[str, str], b: dict[str, str]) -> bool:
    group_a = {g.strip() for g in a["same_photo_group"].split(";") if g.strip()}
    group_b = {g.strip() for g in b["same_photo_group"].split(";") if g.strip()}
    return a["source_repo"] == b["source_repo"] and bool(group_a & group_b)


def test_same_people_accepted_and_different_people_refused(
        described: list[tuple[dict[str, str], Descriptor]]) -> None:
    assert len(described) > 60
    genuine = impostor = 0
    wrong: list[str] = []
    for (ra, da), (rb, db) in itertools.combinations(described, 2):
        if _same_photo(ra, rb):
            continue
        same = ra["identities"] == rb["identities"]
        result = compare_descriptors(da, db)
        genuine += same
        impostor += not same
        if result.same_person != same:
            wrong.append(f"{ra['path']} vs {rb['path']}: same={same} d={result.distance:.3f}")
    assert genuine > 100 and impostor > 2000
    assert not wrong, "\n".join(wrong)
