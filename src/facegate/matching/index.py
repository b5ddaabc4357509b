"""The 1:N gallery index: exact search for small galleries, FAISS IVF above a measured size.

A :class:`GalleryIndex` holds the opened descriptors of one gallery (one
purpose, one model pack and version) in memory only; it is built from
decrypted templates and is never written anywhere. Each entry carries its
subject and expiry, so erasure, withdrawal and the retention sweep remove
exactly their entries, and an entry past its expiry is never
returned even before the sweep runs.

Two backends, one answer shape:

* exact: the unit descriptors as one float32 matrix; a probe's squared
  Euclidean distance to every template is ``|q|^2 + 1 - 2 q.x`` (one matrix
  product).
  Below :data:`APPROXIMATE_FROM` templates this is what runs, and it is the
  fallback whenever FAISS is not installed (the ``[index]`` extra).
* approximate: FAISS ``PCA{d/2},IVF{cells},PQ{d/4}x4fs`` (the descriptor
  rotated and cut to half its length by PCA, inverted lists over k-means
  cells, 4-bit fast-scan product-quantisation codes: 16 bytes a template for
  128-d) finds a shortlist of ``max(512, 4k)`` candidates, which are re-ranked
  by their exact distance from the full vectors kept beside it (512 bytes), so
  every distance returned is exact. It is chosen over graph indexes (HNSW)
  because ``remove_ids`` really deletes a vector, which erasure needs (the full
  vector is overwritten with zeros at once), because it builds in under half a
  minute for a million templates, and because on these descriptors it reached
  the recall target faster than HNSW did. ``bench/gallery.py`` measures it
  against exact search; docs/matching.md gives the figures and the choice of
  :data:`APPROXIMATE_FROM`, ``nprobe`` and the codes.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["APPROXIMATE_FROM", "GalleryIndex", "IndexEntry", "Neighbour", "faiss_available"]

#: Galleries with at least this many templates get the approximate index (when FAISS is
#: installed); below it exact search is as fast or faster (measured in ``bench/gallery.py``:
#: at 100,000 templates the index at its default ``nprobe`` first beats exact search).
APPROXIMATE_FROM: Final = 100_000

Matrix = npt.NDArray[np.float32]


def _faiss() -> Any | None:
    try:
        return importlib.import_module("faiss")
    except ImportError:
        return None


@contextmanager
def _one_thread(faiss: Any) -> Iterator[None]:
    """Run FAISS on one OpenMP thread: on a loaded machine its spinning thread team made a
    20,000-template build take 15 s instead of 0.4 s; single probes gain nothing from more."""
    before = int(faiss.omp_get_max_threads())
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def faiss_available() -> bool:
    """Whether the optional FAISS backend (the ``[index]`` extra) is installed."""
    return _faiss() is not None


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index knows about one template besides its vector."""

    subject_id: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One template near the probe."""

    subject_id: str
    distance: float


def _cells(n: int) -> int:
    """IVF cells for ``n`` templates: about 4 sqrt(n), a power of two, at least 64."""
    return max(64, 1 << round(math.log2(4 * math.sqrt(max(n, 1)))))


_NEVER: Final = math.inf


class GalleryIndex:
    """The in-memory search structure of one gallery.

    Per template it holds the vector (in the exact matrix or the IVF lists), a
    subject code (int32) and an expiry (float64 seconds); subjects are kept once.

    Args:
        dim: descriptor length.
        approximate_from: gallery size from which the FAISS index is used.
        nprobe: IVF cells visited per probe; ``None`` picks :func:`default_nprobe`.
        cells: IVF cells; ``None`` picks about 4 sqrt(n) (benchmarks try others).
        codes: the FAISS codes after PCA and IVF; ``None``: 4-bit fast-scan product
            quantisation, two PCA dimensions a byte (``PQ32x4fs`` for 128-d).
        shortlist: candidates re-ranked exactly per probe; ``None``: ``max(512, 4k)``.
        backend: ``"auto"``, ``"exact"`` or ``"ivf"`` (benchmarks and tests force one).
    """

    def __init__(self, dim: int, *, approximate_from: int = APPROXIMATE_FROM,
                 nprobe: int | None = None, cells: int | None = None,
                 codes: str | None = None, shortlist: int | None = None,
                 backend: str = "auto") -> None:
        if backend not in ("auto", "exact", "ivf"):
            raise ValueError(f"unknown backend {backend!r}")
        self.dim = dim
        self._approximate_from = approximate_from
        self._nprobe = nprobe
        self._cells = cells
        self._codes_spec = codes
        self._shortlist = shortlist
        self._backend = backend
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        # per id (ids are assigned 0, 1, 2, ...): subject code (-1 once removed), expiry
        self._subject: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._expiry: npt.NDArray[np.float64] = np.zeros(0, dtype=np.float64)
        self._live = 0
        # live templates per subject code, how many subjects have one, the earliest expiry
        self._counts: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._subject_count = 0
        self._earliest = _NEVER
        # exact backend: rows with their ids
        self._matrix: Matrix = np.zeros((0, dim), dtype=np.float32)
        self._ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._ivf: Any | None = None
        # approximate backend: full vectors by id, for the exact re-ranking
        self._store: Matrix = np.zeros((0, dim), dtype=np.float32)

    # -- building --------------------------------------------------------------------

    @classmethod
    def build(cls, entries: Sequence[IndexEntry], vectors: Matrix, *, dim: int = 128,
              **kwargs: Any) -> GalleryIndex:
        """An index over ``vectors`` (one unit-length row per entry)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        index = cls(vectors.shape[1] if vectors.ndim == 2 and len(vectors) else dim, **kwargs)
        index.add(entries, vectors)
        return index

    @property
    def approximate(self) -> bool:
        """Whether the FAISS IVF index answers (otherwise exact search)."""
        return self._ivf is not None

    @property
    def cells(self) -> int | None:
        """IVF cells of the approximate index; ``None`` for exact search."""
        if self._ivf is None:
            return None
        faiss = _faiss()
        assert faiss is not None
        return int(faiss.extract_index_ivf(self._ivf).nlist)

    @property
    def nprobe(self) -> int | None:
        """IVF cells visited per probe; ``None`` for exact search."""
        if self._ivf is None:
            return None
        faiss = _faiss()
        assert faiss is not None
        return int(faiss.extract_index_ivf(self._ivf).nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self._ivf is not None:
            faiss = _faiss()
            assert faiss is not None
            faiss.extract_index_ivf(self._ivf).nprobe = value

    def __len__(self) -> int:
        return self._live

    @property
    def subject_count(self) -> int:
        """How many subjects have a template here (an expired one counts until removed)."""
        return self._subject_count

    @property
    def subjects(self) -> frozenset[str]:
        """The subjects with at least one template here."""
        held = np.unique(self._subject[self._subject >= 0])
        return frozenset(self._names[int(c)] for c in held)

    def memory_bytes(self) -> int:
        """Bytes of the vectors, ids, lists and per-template arrays (not subject names)."""
        meta = self._subject.nbytes + self._expiry.nbytes
        if self._ivf is not None:
            faiss = _faiss()
            assert faiss is not None
            ivf = faiss.extract_index_ivf(self._ivf)
            lists = ivf.ntotal * (ivf.code_size + 8) + ivf.nlist * ivf.d * 4
            pca = self.dim * ivf.d * 4 if ivf.d != self.dim else 0
            return int(meta + lists + pca + self._store.nbytes)
        return int(meta + self._matrix.nbytes + self._ids.nbytes)

    def add(self, entries: Sequence[IndexEntry], vectors: Matrix) -> None:
        """Add templates; switches to the approximate index once the gallery is large enough."""
        if not len(entries):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(entries), self.dim)
        first = len(self._subject)
        ids = np.arange(first, first + len(entries), dtype=np.int64)
        codes = np.empty(len(entries), dtype=np.int32)
        expiry = np.empty(len(entries), dtype=np.float64)
        for n, e in enumerate(entries):
            code = self._codes.get(e.subject_id)
            if code is None:
                code = self._codes[e.subject_id] = len(self._names)
                self._names.append(e.subject_id)
            codes[n] = code
            expiry[n] = _NEVER if e.expires_at is None else e.expires_at.timestamp()
        self._subject = np.concatenate([self._subject, codes])
        self._expiry = np.concatenate([self._expiry, expiry])
        self._live += len(entries)
        self._earliest = min(self._earliest, float(expiry.min()))
        if len(self._names) > len(self._counts):
            grown = np.zeros(max(len(self._names), 2 * len(self._counts)), dtype=np.int32)
            grown[:len(self._counts)] = self._counts
            self._counts = grown
        touched = np.unique(codes)
        self._subject_count += int(np.count_nonzero(self._counts[touched] == 0))
        np.add.at(self._counts, codes, 1)
        if self._ivf is not None:
            self._keep(ids, vectors)
            with _one_thread(_faiss()):
                self._ivf.add_with_ids(vectors, ids)
            return
        self._matrix = np.concatenate([self._matrix, vectors]) if len(self._matrix) else vectors
        self._ids = np.concatenate([self._ids, ids])
        if self._wants_ivf():
            self._to_ivf()

    def _wants_ivf(self) -> bool:
        if self._backend == "exact" or _faiss() is None:
            return False
        return self._backend == "ivf" or len(self._ids) >= self._approximate_from

    def _to_ivf(self) -> None:
        faiss = _faiss()
        assert faiss is not None
        n = len(self._ids)
        cells = min(self._cells or _cells(n), max(1, n // 39))
        # PCA and 4-bit PQ need enough training rows; a tiny gallery keeps full vectors
        if n >= 1024:
            codes = self._codes_spec or f"PQ{self.dim // 4}x4fs"
            spec = f"PCA{self.dim // 2},IVF{cells},{codes}"
        else:
            spec = f"IVF{cells},Flat"
        ivf = faiss.index_factory(self.dim, spec)
        rng = np.random.default_rng(0)
        sample = self._matrix if n <= 64 * cells else self._matrix[
            np.sort(rng.choice(n, 64 * cells, replace=False))]
        with _one_thread(faiss):
            ivf.train(sample)
            ivf.add_with_ids(self._matrix, self._ids)
        faiss.extract_index_ivf(ivf).nprobe = self._nprobe or default_nprobe(cells)
        self._ivf = ivf
        self._keep(self._ids, self._matrix)
        self._matrix = np.zeros((0, self.dim), dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)

    def _keep(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> None:
        """Put full vectors at their ids in the re-ranking store (grown by doubling)."""
        need = int(ids.max()) + 1
        if need > len(self._store):
            grown = np.zeros((max(need, 2 * len(self._store)), self.dim), dtype=np.float32)
            grown[:len(self._store)] = self._store
            self._store = grown
        self._store[ids] = vectors

    # -- removing ----------------------------------------------------------------------

    def remove_subject(self, subject_id: str) -> int:
        """Remove every template of ``subject_id`` (vectors included); returns how many."""
        code = self._codes.pop(subject_id, None)
        if code is None:
            return 0
        self._names[code] = ""
        return self._drop(np.flatnonzero(self._subject == code))

    def remove_expired(self, now: datetime) -> int:
        """Remove every template past its expiry at ``now``; returns how many."""
        if now.timestamp() < self._earliest:
            return 0
        gone = self._drop(np.flatnonzero((self._subject >= 0) &
                                         (self._expiry <= now.timestamp())))
        live = self._expiry[self._subject >= 0]
        self._earliest = float(live.min()) if len(live) else _NEVER
        return gone

    def _drop(self, ids: npt.NDArray[np.intp]) -> int:
        if not len(ids):
            return 0
        gone = ids.astype(np.int64)
        codes = self._subject[gone]
        np.subtract.at(self._counts, codes, 1)
        self._subject_count -= int(np.count_nonzero(self._counts[np.unique(codes)] == 0))
        self._subject[gone] = -1
        self._live -= len(gone)
        if self._ivf is not None:
            self._ivf.remove_ids(gone)
            self._store[gone] = 0.0  # the plaintext vector is gone from memory too
        else:
            keep = ~np.isin(self._ids, gone)
            self._matrix = np.ascontiguousarray(self._matrix[keep])
            self._ids = self._ids[keep]
        return len(gone)

    # -- searching ---------------------------------------------------------------------

    def search(self, probes: Matrix, k: int, *,
               now: datetime | None = None) -> list[list[Neighbour]]:
        """The ``k`` nearest unexpired templates of each probe, nearest first."""
        probes = np.ascontiguousarray(probes, dtype=np.float32).reshape(-1, self.dim)
        if not self._live or k <= 0:
            return [[] for _ in range(len(probes))]
        stamp = -_NEVER if now is None else now.timestamp()
        expired = 0 if stamp < self._earliest else int(
            np.count_nonzero((self._subject >= 0) & (self._expiry <= stamp)))
        distances, ids = self.raw_search(probes, min(self._live, k + expired))
        out = []
        for row_d, row_i in zip(distances, ids, strict=True):
            found: list[Neighbour] = []
            for d, i in zip(row_d.tolist(), row_i.tolist(), strict=True):
                if i < 0 or self._subject[i] < 0 or self._expiry[i] <= stamp:
                    continue
                found.append(Neighbour(subject_id=self._names[int(self._subject[i])],
                                       distance=math.sqrt(max(0.0, float(d)))))
                if len(found) == k:
                    break
            out.append(found)
        return out

    def raw_search(self, probes: Matrix, k: int) -> tuple[npt.NDArray[np.float32],
                                                           npt.NDArray[np.int64]]:
        """Squared distances and ids of the ``k`` nearest rows (benchmarks use this)."""
        if self._ivf is None:
            return exact_search(self._matrix, self._ids, probes, k)
        with _one_thread(_faiss()):
            _, found = self._ivf.search(probes, self._shortlist or max(512, 4 * k))
        distances = np.full((len(probes), k), np.inf, dtype=np.float32)
        ids = np.full((len(probes), k), -1, dtype=np.int64)
        for row, (q, cand) in enumerate(zip(probes, found, strict=True)):
            cand = cand[cand >= 0]
            if not len(cand):
                continue
            d, i = exact_search(self._store[cand], cand, q[None, :], k)
            distances[row, :d.shape[1]] = d[0]
            ids[row, :i.shape[1]] = i[0]
        return distances, ids


def default_nprobe(cells: int) -> int:
    """IVF cells visited per probe: a quarter of the cells, at most 768. Measured in
    ``bench/gallery.py`` (1,000 LFW probes among synthetic descriptors): recall@1 of at
    least 0.995 with a margin at 100,000 (1,024 cells) and 1,000,000 (4,096); 512 gave
    0.994-0.996 at a million, 768 gave 0.999."""
    return max(1, min(768, cells // 4))


def exact_search(matrix: Matrix, ids: npt.NDArray[np.int64], probes: Matrix,
                 k: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Brute force over unit templates: squared distance ``|q|^2 + 1 - 2 q.x``, the ``k``
    smallest (the probe need not be unit length)."""
    k = min(k, len(ids))
    sims = probes @ matrix.T
    if k < sims.shape[1]:
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(sims.shape[1]), (len(probes), sims.shape[1]))
    top = np.take_along_axis(sims, part, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    best = np.take_along_axis(sims, cols, axis=1)
    norms = np.einsum("ij,ij->i", probes, probes)[:, None]
    return np.maximum(0.0, norms + 1.0 - 2.0 * best).astype(np.float32), ids[cols]
