"""``facegate liveness challenge|check``: a thin adapter over the deployment's liveness calls.

``challenge --purpose P`` prints the challenge as JSON (id, nonce, actions,
expiry). ``check --challenge ID ANSWER...`` answers it with one video file (WebM,
MP4, ...: decoded at its own timestamps, at most ``--fps`` frames a second;
needs the ``video`` extra) or with frame images (or one folder of them, in
name order) taken ``--fps`` apart; it prints the result with every score
and, when it passed, the receipt to give to ``facegate enroll|verify
--liveness``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..liveness import VIDEO_SUFFIXES, Frame
from .governed import db_option, echo_json, open_store

__all__ = ["LIVENESS_COMMANDS"]

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@click.group("liveness")
def liveness_group() -> None:
    """Liveness challenges and checks (docs/liveness.md)."""


@liveness_group.command("challenge")
@db_option
@click.option("--purpose", required=True)
def liveness_challenge(db: Path, purpose: str) -> None:
    """Issue a liveness challenge for PURPOSE; print it as JSON."""
    with open_store(db) as d:
        echo_json(d.liveness_challenge(purpose=purpose).as_dict())


def _frame_paths(paths: tuple[Path, ...]) -> list[Path]:
    if len(paths) == 1 and paths[0].is_dir():
        return sorted(p for p in paths[0].iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    return list(paths)


@liveness_group.command("check")
@db_option
@click.option("--challenge", "challenge_id", required=True)
@click.option("--nonce", help="The challenge's nonce, checked when given.")
@click.option("--fps", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Frame images: frames per second of the answer (frame i is at i/fps "
                   "seconds). A video: the most frames a second to keep.")
@click.argument("answer", nargs=-1, required=True, type=click.Path(path_type=Path))
def liveness_check(db: Path, challenge_id: str, nonce: str | None, fps: float,
                   answer: tuple[Path, ...]) -> None:
    """Answer CHALLENGE with ANSWER: one video file, or frame images (or one folder of them)."""
    with open_store(db) as d:
        if len(answer) == 1 and answer[0].suffix.lower() in VIDEO_SUFFIXES:
            check = d.check_liveness(challenge=challenge_id, video=answer[0], fps=fps,
                                     nonce=nonce)
        else:
            frames = [Frame(at=i / fps, image=p) for i, p in enumerate(_frame_paths(answer))]
            check = d.check_liveness(challenge=challenge_id, frames=frames, nonce=nonce)
        echo_json(check.as_dict())


LIVENESS_COMMANDS = (liveness_group,)
