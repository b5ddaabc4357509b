"""Population fitness: how well a model pack tells apart the people a purpose serves.

Given labelled photos of the population (a folder per person, or a pairs
file), :func:`evaluate_pack` measures one pack and returns an
:class:`Evaluation`: the false-match rate (FMR, different people accepted) and
false-non-match rate (FNMR, the same person rejected) at a given threshold,
the FNMR at FMR 1e-3 and 1e-4, and the threshold for a target FMR, each rate
with a 95% Wilson confidence interval, and the same per group when group
labels are given.

Honest about its limits:

* an image without a face counts against the pack: its same-person pairs are
  false non-matches, its different-person pairs are non-matches;
* a file that cannot be used for another reason (not decodable, too large,
  several faces of similar size...) is listed with its error code in
  ``Evaluation.unusable`` and its pairs are left out: an undecodable file is
  never counted as "no face";
* an FMR can only be measured where there are enough different-person pairs:
  with ``n`` of them the smallest non-zero FMR is ``1/n``, so a target below
  that is reported as not measurable, never extrapolated;
* photos of the same people are correlated, so the intervals are optimistic
  for sets with few people.

Pairs files are tab- or comma-separated ``path1 path2 same`` (``same`` is 1 or
0), or LFW's ``pairs.txt`` format. A folder per person yields every
same-person pair and every different-person pair.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..analysis import FaceAnalyzer
from ..calibration.models import wilson
from ..engine.faces import Descriptor
from ..engine.packs import ModelPack
from ..errors import FaceError, ImageError, InvalidArgument

__all__ = [
    "DescribedSet",
    "Evaluation",
    "GroupRates",
    "LabelledSet",
    "Rate",
    "describe_set",
    "evaluate_distances",
    "evaluate_pack",
    "load_labelled_set",
    "model_card",
    "threshold_at_fmr",
    "wilson",
]

F64 = npt.NDArray[np.float64]
_IMAGE_SUFFIXES: Final = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".heic", ".heif"}
#: The FMRs at which the FNMR is always reported.
REPORTED_FMRS: Final = (1e-3, 1e-4)
#: How many of the smallest different-person distances an evaluation keeps.
KEPT_IMPOSTORS: Final = 20_000


# -- labelled data ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Labelled photos of a population.

    Args:
        root: the folder image paths are relative to.
        name: a short label for reports (the folder's name).
        images: every image path used, relative to ``root``.
        pairs: explicit ``(image, image, same)`` pairs; ``None`` means every
            pair of images, labelled by ``persons``.
        persons: the person of each image (needed when ``pairs`` is ``None``).
        groups: the group of each image (e.g. ``chinese``), where known.
        fingerprint: SHA-256 over the labels and the image files' contents.
    """

    root: Path
    name: str
    images: tuple[str, ...]
    pairs: tuple[tuple[str, str, bool], ...] | None
    persons: Mapping[str, str]
    groups: Mapping[str, str]
    fingerprint: str


def load_labelled_set(path: Path, *, pairs_file: Path | None = None,
                      groups_file: Path | None = None,
                      labels_file: Path | None = None) -> LabelledSet:
    """Read a labelled set from ``path``.

    ``path`` is a folder with a pairs file (``pairs.tsv``, ``pairs.csv`` or
    ``pairs.txt``) or a folder per person; a folder holding exactly one such
    folder is looked into. Group labels come from ``groups_file`` (``person
    group`` per line) or from an ``identities.tsv`` beside the images whose
    second column names each person's group. ``labels_file`` is a CSV of
    ``image,identity`` rows (paths relative to ``path``) instead of folders.

    Raises:
        InvalidArgument: no labelled photos were found, or a file is malformed.
    """
    root = _dataset_root(path, pairs_file or labels_file)
    pairs_path = pairs_file or (None if labels_file else _pairs_path(root))
    pairs: tuple[tuple[str, str, bool], ...] | None = None
    labels: dict[str, str] = {}
    if labels_file is not None:
        labels = _read_labels(labels_file)
        images = tuple(sorted(labels))
    elif pairs_path is not None:
        pairs = tuple(_read_pairs(pairs_path, root))
        if not pairs:
            raise InvalidArgument(f"{pairs_path} holds no pairs", details={"path": str(pairs_path)})
        images = tuple(sorted({p[0] for p in pairs} | {p[1] for p in pairs}))
    else:
        images = tuple(sorted(
            f"{d.name}/{f.name}" for d in root.iterdir() if d.is_dir()
            for f in d.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES))
        if not images:
            raise InvalidArgument(f"{path} holds neither a pairs file nor a folder per person",
                                  details={"path": str(path)})
    persons = labels or {image: image.split("/")[0] for image in images}
    missing = [i for i in images if not (root / i).is_file()]
    if missing:
        raise InvalidArgument(f"{len(missing)} image(s) named by the labels are missing, "
                              f"e.g. {missing[0]}", details={"missing": missing[:10]})
    by_person = _read_groups(groups_file or (root / "identities.tsv"), explicit=bool(groups_file))
    groups = {i: by_person[p] for i, p in persons.items() if p in by_person}
    return LabelledSet(root=root, name=root.name, images=images, pairs=pairs, persons=persons,
                       groups=groups, fingerprint=_fingerprint(root, images, pairs, groups))


def _dataset_root(path: Path, pairs_file: Path | None) -> Path:
    if not path.is_dir():
        raise InvalidArgument(f"{path} is not a folder", details={"path": str(path)})
    if pairs_file is not None or _pairs_path(path) is not None:
        return path
    subfolders = [d for d in path.iterdir() if d.is_dir()]
    with_pairs = [d for d in subfolders if _pairs_path(d) is not None]
    if len(subfolders) == 1 and with_pairs:
        return with_pairs[0]
    return path


def _pairs_path(folder: Path) -> Path | None:
    for name in ("pairs.tsv", "pairs.csv", "pairs.txt"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_pairs(path: Path, root: Path) -> list[tuple[str, str, bool]]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [line.replace(",", "\t").split() if "\t" not in line else line.split("\t")
            for line in lines if line and not line.startswith("#")]
    out: list[tuple[str, str, bool]] = []
    lfw = rows and all(c.isdigit() for c in rows[0]) and len(rows[0]) <= 2
    for number, row in enumerate(rows[1:] if lfw else rows, start=2 if lfw else 1):
        try:
            if lfw and len(row) == 3:
                out.append((_lfw(row[0], row[1]), _lfw(row[0], row[2]), True))
            elif lfw and len(row) == 4:
                out.append((_lfw(row[0], row[1]), _lfw(row[2], row[3]), False))
            elif not lfw and len(row) == 3 and row[2].strip() in ("0", "1"):
                out.append((row[0].strip(), row[1].strip(), row[2].strip() == "1"))
            else:
                raise ValueError
        except ValueError:
            raise InvalidArgument(f"{path.name} line {number} is not a pair",
                                  details={"path": str(path), "line": number}) from None
    for a, b, _ in out:
        for rel in (a, b):
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise InvalidArgument("pair paths must lie inside the data folder",
                                      details={"path": rel})
    return out


def _read_labels(path: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc}", details={"path": str(path)}) from None
    for number, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split(",")]
        if (number == 1 and cells[:2] == ["image", "identity"]) or not line.strip():
            continue
        if len(cells) != 2 or not all(cells):
            raise InvalidArgument(f"{path.name} line {number} is not 'image,identity'",
                                  details={"path": str(path), "line": number})
        if Path(cells[0]).is_absolute() or ".." in Path(cells[0]).parts:
            raise InvalidArgument("image paths must lie inside the data folder",
                                  details={"path": cells[0]})
        labels[cells[0]] = cells[1]
    if len(labels) < 2:
        raise InvalidArgument(f"{path.name} labels fewer than two images",
                              details={"path": str(path)})
    return labels


def _lfw(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def _read_groups(path: Path, *, explicit: bool) -> dict[str, str]:
    if not path.is_file():
        if explicit:
            raise InvalidArgument(f"{path} does not exist", details={"path": str(path)})
        return {}
    groups: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[0 if explicit else 1:]:
        cells = line.split("\t") if "\t" in line else line.split(",")
        if len(cells) >= 2 and cells[0].strip() and cells[1].strip():
            groups[cells[0].strip()] = cells[1].strip()
    return groups


def _fingerprint(root: Path, images: Sequence[str],
                 pairs: Sequence[tuple[str, str, bool]] | None,
                 groups: Mapping[str, str]) -> str:
    digest = hashlib.sha256(b"facegate.labelled-set.v1\x00")
    for image in images:
        digest.update(image.encode() + b"\x00" + hashlib.sha256((root / image).read_bytes())
                      .digest())
    for a, b, same in pairs or ():
        digest.update(f"{a}\t{b}\t{int(same)}\n".encode())
    for image in sorted(groups):
        digest.update(f"{image}\t{groups[image]}\n".encode())
    return digest.hexdigest()


# -- statistics -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """``errors`` out of ``trials``, with a 95% Wilson interval."""

    errors: int
    trials: int

    @property
    def value(self) -> float:
        return self.errors / self.trials if self.trials else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.errors, self.trials)

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval
        return {"value": self.value, "errors": self.errors, "trials": self.trials,
                "ci95": [lo, hi]}

    def __str__(self) -> str:
        if not self.trials:
            return "n/a (no pairs)"
        lo, hi = self.interval
        return (f"{100 * self.value:.2f}% [{100 * lo:.2f}-{100 * hi:.2f}] "
                f"({self.errors}/{self.trials})")


def threshold_at_fmr(impostor: F64, target: float) -> float | None:
    """The largest threshold accepting at most ``target`` of the different-person pairs.

    The midpoint between the k-th and (k+1)-th smallest different-person
    distance, with ``k = floor(target * n)``; ``None`` when ``n < 1 / target``
    (the data cannot show so small a rate).
    """
    n = impostor.shape[0]
    if n == 0 or n * target < 1:
        return None
    ordered = np.sort(impostor)
    k = math.floor(target * n + 1e-9)
    if k >= n or not math.isfinite(ordered[k]):
        return float(ordered[k - 1]) if math.isfinite(ordered[k - 1]) else None
    if k == 0:
        return float(ordered[0]) * (1 - 1e-9)
    return float((ordered[k - 1] + ordered[k]) / 2)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The threshold for a target FMR and what it costs in FNMR."""

    target_fmr: float
    threshold: float | None
    fmr: Rate | None
    fnmr: Rate | None

    def as_dict(self) -> dict[str, Any]:
        return {"target_fmr": self.target_fmr, "threshold": self.threshold,
                "measurable": self.threshold is not None,
                "fmr": self.fmr.as_dict() if self.fmr else None,
                "fnmr": self.fnmr.as_dict() if self.fnmr else None}


@dataclass(frozen=True, slots=True)
class GroupRates:
    """FMR and FNMR within one group (pairs whose two photos both belong to it)."""

    group: str
    fmr: Rate
    fnmr: Rate
    fnmr_at_target: Rate | None

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "fmr": self.fmr.as_dict(), "fnmr": self.fnmr.as_dict(),
                "fnmr_at_target": self.fnmr_at_target.as_dict() if self.fnmr_at_target else None}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One pack measured on one labelled set."""

    pack: str
    pack_version: str
    dataset: str
    fingerprint: str
    images: int
    no_face: int
    genuine_pairs: int
    impostor_pairs: int
    threshold: float
    threshold_label: str
    fmr: Rate
    fnmr: Rate
    target: OperatingPoint
    reported: tuple[OperatingPoint, ...]
    groups: tuple[GroupRates, ...] = ()
    det: tuple[tuple[float, ...], tuple[float, ...]] = field(default=((), ()), repr=False)
    impostor_low: tuple[float, ...] = field(default=(), repr=False)
    """The smallest different-person distances, sorted (at most :data:`KEPT_IMPOSTORS`):
    enough to read the false-match rate of any score near a threshold."""
    unusable: tuple[tuple[str, str], ...] = ()
    """Every image that could not be used, with its error code (``image.undecodable``...);
    images without a face are counted in ``no_face`` instead."""
    quality: Mapping[str, float] = field(default_factory=dict)
    """The range the set's faces measured (smallest and largest; see
    :func:`facegate.quality.outside_measured`)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack, "pack_version": self.pack_version, "dataset": self.dataset,
            "fingerprint": self.fingerprint, "images": self.images, "no_face": self.no_face,
            "genuine_pairs": self.genuine_pairs, "impostor_pairs": self.impostor_pairs,
            "threshold": self.threshold, "threshold_label": self.threshold_label,
            "fmr": self.fmr.as_dict(), "fnmr": self.fnmr.as_dict(),
            "target": self.target.as_dict(),
            "reported": [p.as_dict() for p in self.reported],
            "groups": [g.as_dict() for g in self.groups],
            "unusable": [{"image": i, "code": c} for i, c in self.unusable],
            "quality": dict(self.quality),
        }

    def lines(self) -> list[str]:
        """The report in plain words, one line each."""
        out = [
            f"pack {self.pack} {self.pack_version} on {self.dataset}: {self.images} images "
            f"({self.no_face} without a face, {len(self.unusable)} unusable), "
            f"{self.genuine_pairs} same-person and {self.impostor_pairs} different-person pairs",
            f"  at threshold {self.threshold:.4f} ({self.threshold_label}): "
            f"FMR {self.fmr}, FNMR {self.fnmr}",
        ]
        for point in (*self.reported, self.target):
            if point.threshold is None:
                out.append(f"  at FMR {point.target_fmr:g}: not measurable: "
                           f"{self.impostor_pairs} different-person pairs, at least "
                           f"{math.ceil(1 / point.target_fmr)} needed")
            else:
                out.append(f"  threshold for FMR {point.target_fmr:g}: {point.threshold:.4f}: "
                           f"FMR {point.fmr}, FNMR {point.fnmr}")
        for g in self.groups:
            at_target = f", FNMR at the FMR {self.target.target_fmr:g} threshold " \
                        f"{g.fnmr_at_target}" if g.fnmr_at_target else ""
            out.append(f"  group {g.group}: FMR {g.fmr}, FNMR {g.fnmr}{at_target}")
        for image, code in self.unusable:
            out.append(f"  unusable: {image}: {code}")
        return out


def evaluate_distances(genuine: F64, impostor: F64, *, threshold: float, threshold_label: str,
                       target_fmr: float, pack: str, pack_version: str, dataset: str,
                       fingerprint: str, images: int, no_face: int,
                       groups: Mapping[str, tuple[F64, F64]] | None = None,
                       unusable: Sequence[tuple[str, str]] = (),
                       quality: Mapping[str, float] | None = None) -> Evaluation:
    """The evaluation of distances already computed (``inf`` where a face was missing)."""
    if not 0 < target_fmr < 1:
        raise InvalidArgument("the target FMR must lie between 0 and 1",
                              details={"target_fmr": target_fmr})

    def point(target: float) -> OperatingPoint:
        t = threshold_at_fmr(impostor, target)
        if t is None:
            return OperatingPoint(target, None, None, None)
        return OperatingPoint(target, t, _accepted(impostor, t), _rejected(genuine, t))

    target = point(target_fmr)
    per_group = tuple(
        GroupRates(group=name, fmr=_accepted(imp, threshold), fnmr=_rejected(gen, threshold),
                   fnmr_at_target=_rejected(gen, target.threshold)
                   if target.threshold is not None else None)
        for name, (gen, imp) in sorted((groups or {}).items()))
    det = _det(genuine, impostor)
    return Evaluation(
        pack=pack, pack_version=pack_version, dataset=dataset, fingerprint=fingerprint,
        images=images, no_face=no_face, genuine_pairs=int(genuine.shape[0]),
        impostor_pairs=int(impostor.shape[0]), threshold=threshold,
        threshold_label=threshold_label, fmr=_accepted(impostor, threshold),
        fnmr=_rejected(genuine, threshold), target=target,
        reported=tuple(point(f) for f in REPORTED_FMRS if f != target_fmr), groups=per_group,
        det=det, impostor_low=_lowest(impostor), unusable=tuple(unusable),
        quality=dict(quality or {}))


def _lowest(distances: F64) -> tuple[float, ...]:
    finite = distances[np.isfinite(distances)]
    if finite.size > KEPT_IMPOSTORS:
        finite = np.partition(finite, KEPT_IMPOSTORS - 1)[:KEPT_IMPOSTORS]
    return tuple(float(v) for v in np.sort(finite))


def _accepted(distances: F64, threshold: float) -> Rate:
    return Rate(int(np.count_nonzero(distances <= threshold)), int(distances.shape[0]))


def _rejected(distances: F64, threshold: float) -> Rate:
    return Rate(int(np.count_nonzero(~(distances <= threshold))), int(distances.shape[0]))


def _det(genuine: F64, impostor: F64) -> tuple[tuple[float, ...], tuple[float, ...]]:
    finite = np.concatenate([genuine, impostor])
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or genuine.size == 0 or impostor.size == 0:
        return ((), ())
    grid = np.unique(np.quantile(finite, np.linspace(0, 1, 400)))
    fmr = np.searchsorted(np.sort(impostor), grid, side="right") / impostor.size
    fnmr = 1 - np.searchsorted(np.sort(genuine), grid, side="right") / genuine.size
    return tuple(float(v) for v in fmr), tuple(float(v) for v in fnmr)


# -- measuring a pack -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DescribedSet:
    """What the pack made of each image of a labelled set.

    Args:
        descriptors: the primary face's descriptor of each image (``None``: no face,
            or unusable).
        unusable: the images that could not be used, each with its error code.
        metrics: the primary face's quality measures, per image with a face.
    """

    descriptors: Mapping[str, Descriptor | None]
    unusable: Mapping[str, str]
    metrics: Mapping[str, Mapping[str, float]]

    def quality(self) -> dict[str, float]:
        """The range the set's faces measured: the smallest face size, sharpness and
        brightness, the largest brightness and absolute yaw and pitch."""
        rows = list(self.metrics.values())
        if not rows:
            return {}

        def col(name: str, absolute: bool = False) -> F64:
            values = np.array([r[name] for r in rows if name in r], dtype=np.float64)
            return np.abs(values) if absolute else values

        def low(values: F64) -> float:
            return float(np.floor(values.min() * 10) / 10)

        def high(values: F64) -> float:
            return float(np.ceil(values.max() * 10) / 10)

        return {"min_face_size": low(col("face_size")), "min_sharpness": low(col("sharpness")),
                "min_brightness": low(col("brightness")),
                "max_brightness": high(col("brightness")), "max_yaw": high(col("yaw", True)),
                "max_pitch": high(col("pitch", True))}


def describe_set(analyzer: FaceAnalyzer, data: LabelledSet,
                 progress: Callable[[int], None] | None = None) -> DescribedSet:
    """The primary face's descriptor and quality measures of every image.

    An image without a face gets ``None``; an image that cannot be used (not
    decodable, too large, ...) gets ``None`` too and is listed in ``unusable``
    with its error code, so it is never mistaken for "no face".
    """
    found: dict[str, Descriptor | None] = {}
    unusable: dict[str, str] = {}
    metrics: dict[str, Mapping[str, float]] = {}
    for image in data.images:
        found[image] = None
        try:
            described = analyzer.describe_assessed(data.root / image)
        except (ImageError, FaceError) as exc:
            unusable[image] = exc.code
            described = None
        if described is not None:
            face, report = described
            found[image] = face.descriptor
            metrics[image] = report.metrics
        if progress is not None:
            progress(1)
    return DescribedSet(descriptors=found, unusable=unusable, metrics=metrics)


def evaluate_pack(analyzer: FaceAnalyzer, data: LabelledSet, *, threshold: float | None = None,
                  threshold_label: str | None = None, target_fmr: float = 1e-3,
                  progress: Callable[[int], None] | None = None) -> Evaluation:
    """Measure ``analyzer``'s pack on ``data``.

    Args:
        threshold: the threshold to report rates at (a purpose's); the
            analyzer's (its pack's shipped calibration for its population) when
            ``None``.
        threshold_label: where ``threshold`` comes from, for the report.
        target_fmr: the FMR whose threshold is computed.
    """
    pack = analyzer.pack
    described = describe_set(analyzer, data, progress)
    index = {image: i for i, image in enumerate(data.images)}
    matrix = np.zeros((len(data.images), pack.descriptor_size))
    present = np.zeros(len(data.images), dtype=bool)
    usable = np.ones(len(data.images), dtype=bool)
    for image, d in described.descriptors.items():
        if d is not None:
            matrix[index[image]] = d.vector
            present[index[image]] = True
    for image in described.unusable:
        usable[index[image]] = False
    if data.pairs is not None:
        a = np.array([index[p[0]] for p in data.pairs], dtype=np.int64)
        b = np.array([index[p[1]] for p in data.pairs], dtype=np.int64)
        same = np.array([p[2] for p in data.pairs], dtype=bool)
    else:
        a, b, same = _all_pairs(data)
    keep = usable[a] & usable[b]
    a, b, same = a[keep], b[keep], same[keep]
    dist = _pair_distances(matrix, present, a, b)
    group_of = np.array([data.groups.get(image, "") for image in data.images])
    groups: dict[str, tuple[F64, F64]] = {}
    for name in sorted(set(group_of) - {""}):
        inside = (group_of[a] == name) & (group_of[b] == name)
        groups[name] = (dist[inside & same], dist[inside & ~same])
    t = analyzer.threshold if threshold is None else threshold
    label = threshold_label or (analyzer.threshold_source if threshold is None else "given")
    return evaluate_distances(
        dist[same], dist[~same], threshold=t, threshold_label=label, target_fmr=target_fmr,
        pack=pack.id, pack_version=pack.version, dataset=data.name,
        fingerprint=data.fingerprint, images=len(data.images),
        no_face=int((~present & usable).sum()), groups=groups,
        unusable=sorted(described.unusable.items()), quality=described.quality())


def _all_pairs(data: LabelledSet) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                           npt.NDArray[np.bool_]]:
    persons = [data.persons[i] for i in data.images]
    if len(persons) < 2:
        raise InvalidArgument("at least two images are needed", details={"images": len(persons)})
    first, second = np.triu_indices(len(persons), k=1)
    a, b = first.astype(np.int64), second.astype(np.int64)
    labels = np.array(persons)
    return a, b, labels[a] == labels[b]


def _pair_distances(matrix: F64, present: npt.NDArray[np.bool_], a: npt.NDArray[np.int64],
                    b: npt.NDArray[np.int64]) -> F64:
    dist = np.full(a.shape[0], np.inf)
    ok = present[a] & present[b]
    step = 1 << 16
    for start in range(0, a.shape[0], step):
        sl = slice(start, start + step)
        diff = matrix[a[sl]] - matrix[b[sl]]
        block = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        dist[sl] = np.where(ok[sl], block, np.inf)
    return dist


def model_card(evaluation: Evaluation, pack: ModelPack, *, population: str) -> str:
    """A model card (R21) in Markdown: the model, the data, the chosen threshold and the
    error rates at it with their 95% intervals."""
    t = evaluation.target
    lines = [
        f"# Model card: {pack.id} {pack.version}",
        "",
        "## Model",
        f"- Descriptor: {pack.descriptor_size}-d, compared by {pack.distance.value} "
        "(facegate compares unit vectors by Euclidean distance d; cosine = 1 - d^2/2)",
        f"- Alignment: {pack.alignment}",
        f"- Licence: {pack.licence}",
        f"- Provenance: {pack.provenance}",
        f"- Shipped default threshold: {pack.default_threshold} ({pack.threshold_source})",
        "",
        "## Evaluation data",
        f"- Set: {evaluation.dataset} (SHA-256 {evaluation.fingerprint[:16]}...)",
        f"- Population: {population}",
        f"- {evaluation.images} images, {evaluation.no_face} without a face (counted as errors), "
        f"{len(evaluation.unusable)} unusable (listed below, left out)",
        f"- {evaluation.genuine_pairs} same-person and {evaluation.impostor_pairs} "
        "different-person pairs",
        "",
        "## Operating point",
    ]
    if t.threshold is None:
        lines.append(f"- No threshold: {evaluation.impostor_pairs} different-person pairs cannot "
                     f"show a false-match rate of {t.target_fmr:g}")
    else:
        lines += [f"- Target false-match rate: {t.target_fmr:g}",
                  f"- Threshold: {t.threshold:.4f} (cosine {1 - t.threshold ** 2 / 2:.4f})",
                  f"- FMR at it: {t.fmr}", f"- FNMR at it: {t.fnmr}"]
    for point in evaluation.reported:
        if point.threshold is None:
            lines.append(f"- At FMR {point.target_fmr:g}: not measurable on this data")
        else:
            lines.append(f"- At FMR {point.target_fmr:g} (threshold {point.threshold:.4f}): "
                         f"FNMR {point.fnmr}")
    if evaluation.groups:
        lines += ["", "## Groups", "", "| group | FMR | FNMR |", "|---|---|---|"]
        lines += [f"| {g.group} | {g.fmr} | {g.fnmr_at_target or g.fnmr} |"
                  for g in evaluation.groups]
    if evaluation.unusable:
        lines += ["", "## Unusable images", ""]
        lines += [f"- {image}: {code}" for image, code in evaluation.unusable]
    lines += ["", "- Turned faces: these figures hold for the faces of this set; a face "
              "turned further than the set's is refused as turned_away or not decided on.",
              "", "Intervals are 95% Wilson score intervals; photos of the same people are "
              "correlated, so they are optimistic for sets with few people.", ""]
    return "\n".join(lines)


def plot_det(evaluations: Sequence[Evaluation], path: Path) -> None:
    """Write the DET curves (FNMR against FMR, log scales) of ``evaluations`` as a PNG.

    Raises:
        InvalidArgument: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidArgument("a DET plot needs matplotlib: pip install 'facegate[bench]'",
                              details={"path": str(path)}) from None
    fig, ax = plt.subplots(figsize=(6, 5))
    for e in evaluations:
        fmr, fnmr = e.det
        if fmr:
            ax.plot(np.clip(fmr, 1e-5, 1), np.clip(fnmr, 1e-4, 1),
                    label=f"{e.pack} ({e.dataset})")
        ax.scatter([max(e.fmr.value, 1e-5)], [max(e.fnmr.value, 1e-4)], marker="o", s=20)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false-match rate (different people accepted)")
    ax.set_ylabel("false-non-match rate (same person rejected)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
