"""Speed at scale: exact versus indexed 1:N search on galleries of 100,000 and 1,000,000.

Each gallery holds every real LFW descriptor except the probes, plus synthetic
descriptors drawn from a Gaussian fitted to the real ones (their mean and full
covariance), then scaled to unit length. Probes are real LFW images held out
of the gallery whose person has other images in it, so each probe's true
nearest neighbour is usually its own person among a crowd of synthetic
strangers. Both searches run in the same process, one probe at a time (the
latency a single identification sees), on the same gallery:

* exact: :func:`facegate.matching.index.exact_search` (one numpy matrix product);
* indexed: :class:`facegate.matching.index.GalleryIndex` (FAISS ``PCA64,IVF,SQ8``,
  re-ranked by exact distance on the full vectors).

Reported per size: build time, p50/p99 latency per probe, speed-up of the
medians, recall@1 (the index returns exact search's nearest template),
recall@10, and memory per template (vectors, ids, lists and per-template arrays).

Both run single-threaded (``OMP_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``,
set before numpy loads unless already set): per-probe latency on one core,
which is also what stays measurable on a shared 2-core machine.

Usage::

    python bench/gallery.py --sizes 100000 1000000 --probes 200
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from facegate.matching.index import (  # noqa: E402
    GalleryIndex,
    IndexEntry,
    default_nprobe,
    exact_search,
)
from lfw_descriptors import OUT, load  # noqa: E402

Matrix = npt.NDArray[np.float32]


def synthetic(real: Matrix, n: int, rng: np.random.Generator) -> Matrix:
    """``n`` unit vectors from a Gaussian fitted to ``real``."""
    mean = real.mean(axis=0)
    cov = np.cov(real, rowvar=False)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(len(cov)))
    for start in range(0, n, 100_000):
        z = rng.standard_normal((min(100_000, n - start), real.shape[1]))
        block = (mean + z @ chol.T).astype(np.float32)
        out[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def percentiles(times: list[float]) -> tuple[float, float]:
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def run(size: int, probes: Matrix, real: Matrix, *, nprobe: int | None,
        rng: np.random.Generator) -> dict[str, object]:
    gallery = np.concatenate([real, synthetic(real, size - len(real), rng)])
    ids = np.arange(size, dtype=np.int64)

    t = time.perf_counter()
    matrix = np.ascontiguousarray(gallery)
    exact_build = time.perf_counter() - t
    exact_times, truth = [], []
    for q in probes:
        t = time.perf_counter()
        _, i = exact_search(matrix, ids, q[None, :], 10)
        exact_times.append(time.perf_counter() - t)
        truth.append(i[0])

    entries = [IndexEntry(subject_id="g")] * size
    t = time.perf_counter()
    index = GalleryIndex.build(entries, gallery, backend="ivf", nprobe=nprobe)
    ivf_build = time.perf_counter() - t
    del matrix
    ivf_times, found = [], []
    for q in probes:
        t = time.perf_counter()
        _, i = index.raw_search(q[None, :], 10)
        ivf_times.append(time.perf_counter() - t)
        found.append(i[0])
    at1 = float(np.mean([f[0] == t[0] for f, t in zip(found, truth, strict=True)]))
    at10 = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    e50, e99 = percentiles(exact_times)
    i50, i99 = percentiles(ivf_times)
    return {"size": size, "cells": index.cells, "nprobe": index.nprobe,
            "exact_build_s": exact_build, "index_build_s": ivf_build,
            "exact_p50_ms": e50, "exact_p99_ms": e99, "index_p50_ms": i50, "index_p99_ms": i99,
            "speedup_p50": e50 / i50, "recall_at_1": at1, "recall_at_10": at10,
            "exact_bytes_per_template": (gallery.nbytes + ids.nbytes) / size,
            "index_bytes_per_template": index.memory_bytes() / size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--nprobe", type=int, default=None,
                        help="IVF cells visited per probe (default: facegate's)")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    people = load()
    mated = [p for p, imgs in people.items() if len(imgs) >= 2]
    chosen = set(rng.choice(len(mated), min(args.probes, len(mated)), replace=False).tolist())
    probes, real = [], []
    for person in sorted(people):
        imgs = people[person]
        hold = person in mated and mated.index(person) in chosen
        for k, (_, v) in enumerate(imgs):
            (probes if hold and k == len(imgs) - 1 else real).append(v)
    probe_m, real_m = np.stack(probes), np.stack(real)
    print(f"{len(real_m)} real LFW templates in every gallery, {len(probe_m)} mated probes; "
          f"threads: {os.environ.get('OMP_NUM_THREADS', 'all')}")
    head = (f"{'size':>9} {'cells':>5} {'nprobe':>6} {'build exact/index s':>20} "
            f"{'exact p50/p99 ms':>17} {'index p50/p99 ms':>17} {'speed-up':>8} "
            f"{'R@1':>6} {'R@10':>6} {'B/template exact/index':>22}")
    print(head)
    rows = []
    for size in args.sizes:
        r = run(size, probe_m, real_m, nprobe=args.nprobe, rng=rng)
        rows.append(r)
        print(f"{r['size']:>9} {r['cells']:>5} {r['nprobe']:>6} "
              f"{r['exact_build_s']:>9.2f}/{r['index_build_s']:<10.1f} "
              f"{r['exact_p50_ms']:>8.2f}/{r['exact_p99_ms']:<8.2f} "
              f"{r['index_p50_ms']:>8.3f}/{r['index_p99_ms']:<8.3f} "
              f"{r['speedup_p50']:>7.1f}x {r['recall_at_1']:>6.3f} {r['recall_at_10']:>6.3f} "
              f"{r['exact_bytes_per_template']:>10.0f}/{r['index_bytes_per_template']:<10.0f}",
              flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    Path(OUT / "gallery.json").write_text(json.dumps(rows, indent=2))
    print(f"default nprobe: {default_nprobe(1024)} of 1,024 cells, {default_nprobe(4096)} of 4,096")


if __name__ == "__main__":
    main()
