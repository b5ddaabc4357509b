"""The ``facegate`` command line: a thin adapter over the library.

Every failure is one line on stderr, ``facegate: <code>: <message>``, and a
non-zero exit status: 1 when facegate refused an input, 2 for a usage error.
With ``--json`` the results go to stdout as one JSON document.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..analysis import AnalyzerSettings, FaceAnalyzer
from ..engine.base import DetectOptions, DetectorChoice
from ..engine.faces import Face
from ..errors import Error

__all__ = ["cli", "main"]

_T = TypeVar("_T")


def _analyzer(detector: str, upsample: int, pack: str | None,
              threshold: float | None = None) -> FaceAnalyzer:
    options = DetectOptions(detector=DetectorChoice(detector), upsample=upsample)
    settings = AnalyzerSettings(detect=options, threshold=threshold)
    if pack is None:
        return FaceAnalyzer(settings=settings)
    return FaceAnalyzer.for_pack(pack, settings=settings)


def _fail(exc: Error) -> None:
    click.echo(f"facegate: {exc.code}: {exc.message}", err=True)


def _box_words(n: int, box: dict[str, int]) -> str:
    """``face 1 at x 756, y 45: 215 x 214 px`` (the top-left corner, then the size)."""
    return (f"face {n} at x {box['left']}, y {box['top']}: "
            f"{box['right'] - box['left']} x {box['bottom'] - box['top']} px")


def _face_dict(face: Face, *, vector: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "box": face.box.as_dict(),
        "score": round(face.score, 4),
        "detector": face.detector.value,
        "landmarks": {"scheme": face.landmarks.scheme.value,
                      "points": [[round(x, 1), round(y, 1)] for x, y in face.landmarks.points]},
    }
    if face.landmarks68 is not None:
        out["landmarks68"] = [[round(x, 1), round(y, 1)] for x, y in face.landmarks68.points]
    if face.descriptor is not None:
        out["pack"] = face.descriptor.pack
        out["pack_version"] = face.descriptor.pack_version
        if vector:
            out["descriptor"] = [round(float(v), 6) for v in face.descriptor.vector]
    return out


def _each_file(paths: Sequence[Path], work: Callable[[Path], _T],
               label: str) -> Iterator[tuple[Path, _T | Error]]:
    """Run ``work`` on each path with a progress bar on stderr when there are several."""
    show = len(paths) > 1 and sys.stderr.isatty()
    with click.progressbar(paths, label=label, file=sys.stderr,
                           hidden=not show) as bar:
        for path in bar:
            try:
                yield path, work(path)
            except Error as exc:
                yield path, exc


def _detector_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--pack", default=None,
                     help="Model pack (default: the best-measured installed pack for East-Asian "
                          "faces, faceplugin-arcface-v1 when installed, else dlib-resnet-v1); "
                          "see: facegate models list.")(f)
    f = click.option("--upsample", type=click.IntRange(0, 3), default=1, show_default=True,
                     help="Double the image this many times before detecting.")(f)
    f = click.option("--detector", type=click.Choice([c.value for c in DetectorChoice]),
                     default=DetectorChoice.AUTO.value, show_default=True,
                     help="dlib pack: hog is fast; cnn finds turned faces; auto (the measured "
                          "pipeline) falls back to cnn. The faceplugin pack uses its own.")(f)
    return f


_json_option = click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
_files_argument = click.argument("images", nargs=-1, required=True,
                                 type=click.Path(path_type=Path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facegate")
def cli() -> None:
    """facegate: face recognition that keeps the law by construction."""


@cli.command()
@_files_argument
@_detector_options
@click.option("--landmarks", type=click.Choice(["5", "68"]), default="5", show_default=True)
@_json_option
def detect(images: tuple[Path, ...], detector: str, upsample: int, pack: str | None,
           landmarks: str, as_json: bool) -> None:
    """Find the faces in IMAGES."""
    analyzer = _analyzer(detector, upsample, pack)
    _report(images, lambda p: [_face_dict(f) for f in
                               analyzer.detect(p, landmarks68=landmarks == "68")],
            "detecting", as_json, analyzer.pack.id,
            lambda faces: f"{len(faces)} face(s)" + "".join(
                f"\n  {_box_words(i, f['box'])}, score {f['score']:.2f}"
                for i, f in enumerate(faces, 1)))


@cli.command()
@_files_argument
@_detector_options
@click.option("--all-faces", is_flag=True,
              help="Assess every face instead of requiring exactly one.")
@_json_option
def quality(images: tuple[Path, ...], detector: str, upsample: int, pack: str | None,
            all_faces: bool, as_json: bool) -> None:
    """Check whether IMAGES are good enough to enroll (one clear, frontal, well-lit face).

    Exit status: 0 every image passed, 1 an image could not be read, 3 an image was
    refused.
    """
    analyzer = _analyzer(detector, upsample, pack)

    def work(p: Path) -> list[dict[str, object]]:
        reports = analyzer.assess(p) if all_faces else [analyzer.assess_single(p)]
        return [r.as_dict() for r in reports]

    def line(reports: list[dict[str, Any]]) -> str:
        return "; ".join("ok" if r["passed"] else "refused: " + ", ".join(r["reasons"])
                         for r in reports)

    _report(images, work, "assessing", as_json, analyzer.pack.id, line,
            passed=lambda reports: all(r["passed"] for r in reports))


@cli.command()
@_files_argument
@_detector_options
@_json_option
def embed(images: tuple[Path, ...], detector: str, upsample: int, pack: str | None,
          as_json: bool) -> None:
    """Compute the descriptor of every face in IMAGES (the vectors are printed with --json)."""
    analyzer = _analyzer(detector, upsample, pack)
    _report(images, lambda p: [_face_dict(f, vector=True) for f in analyzer.embed(p)],
            "embedding", as_json, analyzer.pack.id,
            lambda faces: f"{len(faces)} face(s)" + "".join(
                f"\n  {_box_words(i, f['box'])}: {len(f['descriptor'])}-d descriptor"
                for i, f in enumerate(faces, 1)))


@cli.command()
@click.argument("first", type=click.Path(path_type=Path))
@click.argument("second", type=click.Path(path_type=Path))
@_detector_options
@click.option("--threshold", type=float, default=None,
              help="Decision distance (default: the model pack's calibrated threshold).")
@_json_option
def compare(first: Path, second: Path, detector: str, upsample: int, pack: str | None,
            threshold: float | None, as_json: bool) -> None:
    """Decide whether FIRST and SECOND show the same person."""
    try:
        result = _analyzer(detector, upsample, pack, threshold).compare(first, second)
    except Error as exc:
        _fail(exc)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    verdict = "same person" if result.same_person else "different people"
    click.echo(f"{verdict}: distance {result.distance:.4f} "
               f"{'<=' if result.same_person else '>'} threshold {result.threshold:.4f} "
               f"(similarity {result.similarity:.4f}, {result.pack})")


@cli.command()
@click.argument("images", nargs=-1, type=click.Path(path_type=Path))
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Folder of labelled sample photos (default: ../shared/data if present).")
def demo(images: tuple[Path, ...], data: Path | None) -> None:
    """Show facegate at work: the engine, then the governed flow on a fresh SQLite store."""
    from ..demo.governed import run as run_governed
    from ..demo.library import run_demo

    status = run_demo(list(images), data, echo=click.echo,
                      heading=lambda title: click.secho(f"\n== {title}", bold=True),
                      error=lambda line: click.echo(line, err=True))
    if status == 0:
        click.secho("\n\n######## The governed flow: nothing biometric happens without a grant",
                    bold=True)
        status = run_governed(data, echo=click.echo)
    sys.exit(status)


#: ``quality``'s exit status when an image was assessed and refused (an image that
#: could not be read at all is 1, a usage error 2); docs/engine.md lists them
EXIT_REFUSED = 3


def _report(paths: Sequence[Path], work: Callable[[Path], _T], label: str, as_json: bool,
            pack: str, line: Callable[[_T], str],
            passed: Callable[[_T], bool] | None = None) -> None:
    """Each path's result (or error), naming the model pack that made it. Exits 1 when
    any path failed, else ``EXIT_REFUSED`` when ``passed`` says a result did not pass."""
    results: list[dict[str, Any]] = []
    failures = 0
    refused = 0
    for path, outcome in _each_file(paths, work, label):
        if isinstance(outcome, Error):
            failures += 1
            if not as_json:
                _fail(_with_path(outcome, path))
            results.append({"path": str(path), "error": outcome.to_dict()})
        else:
            if passed is not None and not passed(outcome):
                refused += 1
            if not as_json:
                click.echo(f"{path}: {line(outcome)} [{pack}]")
            results.append({"path": str(path), "pack": pack, "result": outcome})
    if as_json:
        click.echo(json.dumps(results if len(paths) > 1 else results[0], ensure_ascii=False))
    if failures:
        sys.exit(1)
    if refused:
        sys.exit(EXIT_REFUSED)


def _with_path(exc: Error, path: Path) -> Error:
    exc.message = f"{exc.message} ({path})"
    return exc


def main() -> None:
    """Entry point of the ``facegate`` script."""
    cli(prog_name="facegate")


def _add_governed_commands() -> None:
    from .backup import BACKUP_COMMANDS
    from .cameras import CAMERA_COMMANDS
    from .governed import GOVERNED_COMMANDS
    from .liveness import LIVENESS_COMMANDS
    from .models import MODEL_COMMANDS
    from .report import REPORT_COMMANDS
    from .review import REVIEW_COMMANDS
    from .rights import RIGHTS_COMMANDS
    from .serve import SERVE_COMMANDS
    from .staff import STAFF_COMMANDS

    for command in (*GOVERNED_COMMANDS, *RIGHTS_COMMANDS, *REVIEW_COMMANDS, *MODEL_COMMANDS,
                    *LIVENESS_COMMANDS, *SERVE_COMMANDS, *REPORT_COMMANDS, *BACKUP_COMMANDS,
                    *CAMERA_COMMANDS, *STAFF_COMMANDS):
        if command.name in cli.commands:
            raise RuntimeError(f"two commands are named {command.name!r}")
        cli.add_command(command)


_add_governed_commands()
