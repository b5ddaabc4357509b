"""``facegate models`` and ``facegate evaluate``: model packs and population fitness.

``models list`` shows every pack with its licence, provenance and whether it
is installed; ``models install`` obtains an installable pack by name, pinned
by hash; ``models add-custom`` installs a deployer's own ArcFace-style
network. ``evaluate`` measures packs on labelled photos of the population a
purpose serves (see :mod:`facegate.fitness.evaluation`). Nothing here stores a
template or touches a deployment's gallery; recording an evaluation as a
purpose's calibration is ``facegate purpose calibrate`` (governed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..analysis import AnalyzerSettings, FaceAnalyzer
from ..calibration.shipped import POPULATIONS, shipped_calibrations
from ..engine.base import DetectOptions, DetectorChoice
from ..engine.pack_install import (
    custom_packs,
    find_pack,
    install_pack,
    installed_files,
    is_installed,
    register_custom,
)
from ..engine.packs import PACKS, ModelPack
from ..engine.selection import best_pack
from ..errors import Error
from ..fitness.evaluation import Evaluation, evaluate_pack, load_labelled_set, model_card, plot_det

__all__ = ["MODEL_COMMANDS"]


def _fail(exc: Error) -> None:
    click.echo(f"facegate: {exc.code}: {exc.message}", err=True)
    sys.exit(1)


def _measuring_analyzer(pack: str | None, population: str | None = None) -> FaceAnalyzer:
    """The analyzer used to measure a pack: HOG with the CNN fallback, as the benchmarks;
    its threshold is the pack's shipped calibration for ``population``."""
    settings = AnalyzerSettings(detect=DetectOptions(detector=DetectorChoice.AUTO, upsample=1),
                                population=population)
    return FaceAnalyzer.for_pack(pack, settings=settings) if pack else FaceAnalyzer(
        settings=settings)


def _all_packs() -> dict[str, ModelPack]:
    return {**PACKS, **custom_packs()}


@click.group("models")
def models_group() -> None:
    """Model packs: list, install, add your own."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the packs as JSON.")
def list_command(as_json: bool) -> None:
    """Every known pack, its thresholds (per population) and where they come from."""
    rows: list[dict[str, Any]] = []
    for pack in _all_packs().values():
        ready = not pack.installable or is_installed(pack)
        rows.append({"pack": pack.id, "version": pack.version, "installed": ready,
                     "descriptor_size": pack.descriptor_size, "distance": pack.distance.value,
                     "default_threshold": pack.default_threshold,
                     "threshold_source": pack.threshold_source, "licence": pack.licence,
                     "provenance": pack.provenance,
                     "install": None if ready else f"facegate models install {pack.id}",
                     "calibrations": [c.summary() for c in shipped_calibrations()
                                      if (c.pack, c.pack_version) == (pack.id, pack.version)],
                     "default_for": [p for p in POPULATIONS if best_pack(p) == pack.id]})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = "installed" if row["installed"] else f"not installed: run {row['install']}"
        click.echo(f"{row['pack']} {row['version']} ({state})")
        click.echo(f"  {row['descriptor_size']}-d, {row['distance']}; threshold "
                   f"{row['default_threshold']}: {row['threshold_source']}")
        for c in row["calibrations"]:
            lo, hi = c["fmr"]["ci95"]
            click.echo(f"  {c['population']}: threshold {c['threshold']} (FMR "
                       f"{100 * c['fmr']['value']:.2f}% [{100 * lo:.2f}-{100 * hi:.2f}], FNMR "
                       f"{100 * c['fnmr']['value']:.2f}% on {c['protocol']})")
        if row["default_for"]:
            click.echo(f"  the default pack for: {', '.join(row['default_for'])}")
        click.echo(f"  licence: {row['licence']}")
        click.echo(f"  provenance: {row['provenance']}")


@models_group.command("install")
@click.argument("pack")
@click.option("--tarball", type=click.Path(path_type=Path), default=None,
              help="A local copy of the pack's npm tarball (for sites without a registry).")
@click.option("--force", is_flag=True, help="Install again even when the pack is in place.")
def install_command(pack: str, tarball: Path | None, force: bool) -> None:
    """Obtain PACK by name and exact version, check its pinned hashes, install it."""
    try:
        known = find_pack(pack)
        if not force and tarball is None and known.installable and is_installed(known):
            installed_files(known)  # re-checks every pinned hash
            click.echo(f"{known.id} {known.version} is already installed (hashes checked)")
            return
        done = install_pack(pack, tarball=tarball)
    except Error as exc:
        _fail(exc)
    click.echo(f"installed {done.pack} {done.version} from {done.source} into {done.folder}")
    for role, digest in done.files.items():
        click.echo(f"  {role}: sha256 {digest}")


@models_group.command("add-custom")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="The pack becomes onnx-custom/NAME.")
@click.option("--version", "version", default="1", show_default=True)
@click.option("--threshold", type=float, required=True,
              help="Decision distance on unit vectors (cosine = 1 - d^2/2), from your calibration.")
@click.option("--threshold-source", required=True,
              help="Where the threshold comes from (data set, target FMR).")
@click.option("--descriptor-size", type=int, default=512, show_default=True)
@click.option("--mean", type=float, default=127.5, show_default=True)
@click.option("--scale", type=float, default=128.0, show_default=True)
@click.option("--colour", type=click.Choice(["rgb", "bgr"]), default="rgb", show_default=True)
@click.option("--licence", default="declared by the deployer", show_default=True)
@click.option("--provenance", default="a deployer's own network", show_default=True)
def add_custom_command(model: Path, name: str, version: str, threshold: float,
                       threshold_source: str, descriptor_size: int, mean: float, scale: float,
                       colour: str, licence: str, provenance: str) -> None:
    """Install MODEL, an ArcFace-style ONNX network (Nx3x112x112 in), as a pack."""
    try:
        pack = register_custom(model, name=name, version=version, threshold=threshold,
                               threshold_source=threshold_source,
                               descriptor_size=descriptor_size, normalisation=(mean, scale),
                               colour_order=colour, licence=licence, provenance=provenance)
    except Error as exc:
        _fail(exc)
    click.echo(f"installed {pack.id} {pack.version} (sha256 {pack.files[0].sha256})")


@click.command("evaluate")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--pack", "packs", multiple=True,
              help="Pack to measure (repeatable); default: every installed pack.")
@click.option("--pairs", "pairs_file", type=click.Path(path_type=Path), default=None,
              help="Pairs file (path1 path2 same, or LFW's pairs.txt); default: found in DATA.")
@click.option("--groups", "groups_file", type=click.Path(path_type=Path), default=None,
              help="person<TAB>group lines; default: DATA's identities.tsv when present.")
@click.option("--threshold", type=float, default=None,
              help="Report rates at this threshold (default: each pack's shipped calibration "
                   "for --population).")
@click.option("--population", type=click.Choice(sorted(POPULATIONS)), default=None,
              help="Whose shipped calibration gives the default threshold "
                   "(default: east-asian-adults).")
@click.option("--target-fmr", type=click.FloatRange(1e-7, 0.5), default=1e-3,
              show_default=True, help="The false-match rate to find the threshold for.")
@click.option("--det", "det_path", type=click.Path(path_type=Path), default=None,
              help="Write the DET curves to this PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluations as JSON.")
def evaluate_command(data: Path, packs: tuple[str, ...], pairs_file: Path | None,
                     groups_file: Path | None, threshold: float | None,
                     population: str | None, target_fmr: float,
                     det_path: Path | None, as_json: bool) -> None:
    """Measure model packs on labelled photos of the people a purpose serves.

    DATA is a folder per person, or a folder with a pairs file. Prints, per
    pack, FMR and FNMR at the threshold, FNMR at FMR 1e-3 and 1e-4, the
    threshold for the target FMR (95% Wilson intervals) and per-group rates.
    """
    try:
        labelled = load_labelled_set(data, pairs_file=pairs_file, groups_file=groups_file)
        chosen = list(packs) or [p.id for p in _all_packs().values()
                                 if not p.installable or is_installed(p)]
        results: list[Evaluation] = []
        for pack_id in chosen:
            analyzer = _measuring_analyzer(pack_id, population)
            with click.progressbar(length=len(labelled.images), label=pack_id, file=sys.stderr,
                                   hidden=as_json or not sys.stderr.isatty()) as bar:
                result = evaluate_pack(analyzer, labelled, threshold=threshold,
                                       target_fmr=target_fmr, progress=bar.update)
            results.append(result)
            if not as_json:
                click.echo("\n".join(result.lines()))
        if det_path is not None:
            plot_det(results, det_path)
    except Error as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    elif det_path is not None:
        click.echo(f"DET curves: {det_path}")


@click.command("calibrate")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--pack", default=None,
              help="Pack to calibrate (default: the best-measured installed pack).")
@click.option("--pairs", "pairs_file", type=click.Path(path_type=Path), default=None,
              help="Pairs file (path1 path2 same, or LFW's pairs.txt); default: found in DATA.")
@click.option("--labels", "labels_file", type=click.Path(path_type=Path), default=None,
              help="CSV of image,identity rows (paths relative to DATA) instead of folders.")
@click.option("--population", default=None, help="Whom the photos show (for the card).")
@click.option("--target-fmr", type=click.FloatRange(1e-9, 0.5), default=1e-3,
              show_default=True, help="False-match rate per comparison.")
@click.option("--gallery-size", type=click.IntRange(1), default=1, show_default=True,
              help="For 1:N: divide the target by the gallery size, so that a search of the "
                   "whole gallery falsely matches at about the target rate.")
@click.option("--det", "det_path", type=click.Path(path_type=Path), default=Path("det.png"),
              show_default=True, help="Where to write the DET curve (PNG).")
@click.option("--card", "card_path", type=click.Path(path_type=Path),
              default=Path("model-card.md"), show_default=True,
              help="Where to write the model card (Markdown).")
def calibrate_command(data: Path, pack: str | None, pairs_file: Path | None,
                      labels_file: Path | None, population: str | None, target_fmr: float,
                      gallery_size: int, det_path: Path, card_path: Path) -> None:
    """Choose a pack's threshold for a target false-match rate on labelled photos (DATA),
    and write its DET curve and model card. To lock a purpose's threshold to such a
    calibration, use: facegate purpose calibrate."""
    try:
        labelled = load_labelled_set(data, pairs_file=pairs_file, labels_file=labels_file)
        analyzer = _measuring_analyzer(pack)
        with click.progressbar(length=len(labelled.images), label="describing", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            result = evaluate_pack(analyzer, labelled, target_fmr=target_fmr / gallery_size,
                                   progress=bar.update)
        plot_det([result], det_path)
        card_path.write_text(model_card(result, analyzer.pack,
                                        population=population or labelled.name), "utf-8")
    except Error as exc:
        _fail(exc)
    except OSError as exc:
        click.echo(f"facegate: argument.invalid: cannot write: {exc}", err=True)
        sys.exit(1)
    click.echo("\n".join(result.lines()))
    click.echo(f"DET curve: {det_path}\nmodel card: {card_path}")


MODEL_COMMANDS: tuple[click.Command, ...] = (models_group, evaluate_command, calibrate_command)
