"""The gallery index: the same candidates as exact search on real LFW descriptors, and
removal (erasure, expiry) takes vectors out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from facegate.analysis import FaceAnalyzer
from facegate.matching.index import GalleryIndex, IndexEntry, faiss_available
from facegate.matching.search import nearest_subjects

CACHE = (Path(__file__).resolve().parents[2] / "bench" / "out" /
         "lfw-cache-dlib-resnet-v1-1.0-auto-up1-views0.25-0.2-0.3.jsonl")
PEOPLE = 60
NOW = datetime(2025, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def lfw(shared: Path, analyzer: FaceAnalyzer) -> dict[str, list[np.ndarray]]:
    """Two real descriptors each of the first 60 LFW people with two or more images
    (from bench/lfw.py's cache when present, else computed now)."""
    root = shared / "lfw"
    cached: dict[str, list[float]] = {}
    if CACHE.is_file():
        for line in CACHE.read_text().splitlines():
            row = json.loads(line)
            if row["descriptor"]:
                cached[row["image"]] = row["descriptor"]
    out: dict[str, list[np.ndarray]] = {}
    for person in sorted(p.name for p in root.iterdir() if p.is_dir()):
        images = sorted(root.joinpath(person).glob("*.jpg"))[:2]
        if len(images) < 2:
            continue
        vectors = []
        for image in images:
            rel = f"{person}/{image.name}"
            if rel not in cached:
                face = analyzer.describe_primary(image)
                if face is None or face.descriptor is None:
                    break
                cached[rel] = [float(x) for x in face.descriptor.vector]
            vectors.append(np.asarray(cached[rel], dtype=np.float32))
        if len(vectors) == 2:
            out[person] = vectors
        if len(out) == PEOPLE:
            break
    assert len(out) == PEOPLE
    return out


def _crowd(real: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    z = rng.standard_normal((n, real.shape[1])) @ np.linalg.cholesky(
        np.cov(real, rowvar=False) + 1e-4 * np.eye(real.shape[1])).T
    crowd = (real.mean(axis=0) + z).astype(np.float32)
    return crowd / np.linalg.norm(crowd, axis=1, keepdims=True)


@pytest.mark.skipif(not faiss_available(), reason="the [index] extra (faiss-cpu) is absent")
def test_the_index_gives_the_same_top_candidates_as_exact_search(
        lfw: dict[str, list[np.ndarray]]) -> None:
    people = sorted(lfw)
    enrolled = np.stack([lfw[p][0] for p in people])
    probes = np.stack([lfw[p][1] for p in people])
    crowd = _crowd(enrolled, 20_000)
    entries = [IndexEntry(subject_id=p) for p in people] + [
        IndexEntry(subject_id=f"crowd-{i}") for i in range(len(crowd))]
    vectors = np.concatenate([enrolled, crowd])
    exact = GalleryIndex.build(entries, vectors, backend="exact")
    approx = GalleryIndex.build(entries, vectors, approximate_from=10_000)
    assert approx.approximate and not exact.approximate
    want = nearest_subjects(exact, probes, threshold=0.6, limit=5, now=NOW)
    got = nearest_subjects(approx, probes, threshold=0.6, limit=5, now=NOW)
    # the top candidate of every probe is the same subject at the same distance
    assert [w[:1] for w in want] == [[(s, pytest.approx(d, abs=1e-5)) for s, d in g[:1]]
                                      for g in got]
    # lower ranks are approximate: most of exact search's candidates are listed too
    pairs = [(n, s) for n, w in enumerate(want) for s, _ in w]
    found = {(n, s) for n, g in enumerate(got) for s, _ in g}
    assert sum(pair in found for pair in pairs) / len(pairs) >= 0.9
    assert sum(1 for p, w in zip(people, want, strict=True) if w and w[0][0] == p) >= 50


@pytest.mark.parametrize("backend", ["exact", "ivf"])
def test_erasure_and_expiry_remove_vectors_from_the_index(
        backend: str, lfw: dict[str, list[np.ndarray]]) -> None:
    if backend == "ivf" and not faiss_available():
        pytest.skip("the [index] extra (faiss-cpu) is absent")
    people = sorted(lfw)
    entries = [IndexEntry(subject_id=p, expires_at=NOW + timedelta(days=1 + (n % 2)))
               for n, p in enumerate(people)]
    index = GalleryIndex.build(entries, np.stack([lfw[p][0] for p in people]),
                               backend=backend)
    assert index.approximate is (backend == "ivf")
    target = people[0]
    probe = lfw[target][1][None, :]
    assert index.search(probe, 1, now=NOW)[0][0].subject_id == target
    assert index.remove_subject(target) == 1
    assert target not in index.subjects and len(index) == PEOPLE - 1
    assert all(n.subject_id != target for n in index.search(probe, PEOPLE, now=NOW)[0])
    later = NOW + timedelta(days=1, hours=1)  # the even-numbered half has expired
    assert len(index.search(probe, PEOPLE, now=later)[0]) == PEOPLE // 2
    assert index.remove_expired(later) == PEOPLE // 2 - 1  # the target was already gone
    assert len(index) == PEOPLE // 2
