"""The camera commands of the ``facegate`` CLI: register and list cameras, and watch one.

A thin adapter over :class:`~facegate.deployment.Deployment`, like
:mod:`facegate.cli.governed`; every failure is one line and exit status 1::

    facegate: site.private_space: a changing_room is a private space; camera hq.c-1 may
    not be installed there [R12 cn-2025 Art. 13]

``facegate watch SOURCE --camera ID`` runs the camera's stream in this process with a
live status line (frames a second, live tracks, decisions, matches, reconnections)
until the source ends, ``--seconds`` pass or Ctrl-C; then it prints the session's
counts, as recorded in the audit log. It never shows a picture, and the source is
shown only with its credentials redacted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .governed import db_option, echo_json, open_store

__all__ = ["CAMERA_COMMANDS"]


@click.group("camera")
def camera_group() -> None:
    """Cameras: register (through the gate: R12, R13, R1) and list them."""


@camera_group.command("register")
@db_option
@click.argument("camera_id")
@click.option("--site", required=True)
@click.option("--purpose", "purposes", multiple=True, required=True,
              help="A purpose of the site the camera serves (repeatable).")
@click.option("--mode", type=click.Choice(["identify", "verify"]), default="identify",
              show_default=True,
              help="identify (1:N in each purpose) or verify (1:1 with a claimed identity).")
@click.option("--placement", help="The kind of space it captures (the site's type by default).")
@click.option("--label", default="")
@click.option("--signage", help="The record of the sign posted where it captures (R13).")
@click.option("--source", help="Its stream URL or /dev/videoN device (kept sealed).")
def camera_register(db: Path, camera_id: str, site: str, purposes: tuple[str, ...],
                    mode: str, placement: str | None, label: str, signage: str | None,
                    source: str | None) -> None:
    """Register CAMERA_ID at SITE for its purposes."""
    with open_store(db) as d:
        c = d.register_camera(id=camera_id, site=site, purposes=purposes, mode=mode,
                              placement=placement,
                              label=label, signage=signage, source=source, operator="cli")
        click.echo(f"camera {c.id} registered at {c.site_key} for {', '.join(c.purposes)}"
                   + (f" ({c.source_shown})" if c.source_shown else ""))


@camera_group.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True)
def camera_list(db: Path, as_json: bool) -> None:
    """Every camera with its stream's state and counts (never a picture)."""
    with open_store(db) as d:
        states = [s.as_dict() for s in d.camera_states()]
    if as_json:
        echo_json(states)
        return
    for s in states:
        counts = s["counts"]
        click.echo(f"{s['id']}\t{s['state']}\t{s['site']}\t{','.join(s['purposes'])}\t"
                   f"tracks {counts.get('tracks', 0)}\tmatches {counts.get('matches', 0)}\t"
                   f"no matches {counts.get('no_matches', 0)}")


def _line(camera: str, status: dict[str, object]) -> str:
    return (f"{camera}: {status['state']}, {status['fps']} fps, {status['live_tracks']} "
            f"tracks now, {status['tracks']} seen, {status['decisions']} decisions "
            f"({status['matches']} matches, {status['no_matches']} no match), "
            f"{status['reconnects']} reconnects, {status['dropped']} frames dropped")


@click.command("watch")
@db_option
@click.argument("source")
@click.option("--camera", "camera", required=True, help="The registered camera's id.")
@click.option("--seconds", type=click.FloatRange(min=0.1),
              help="Stop after this long (by default at the source's end or Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between status lines.")
@click.option("--claim", "claims", multiple=True, metavar="SUBJECT",
              help="A verification camera: the claimed identity (external reference or "
                   "subject id) of the person about to appear, as a card reader sends it "
                   "(repeatable: one per person, in order).")
@click.option("--claim-purpose", help="The purpose of the claims (when the camera serves several).")
@click.option("--claim-window", type=click.FloatRange(min=0.5, max=60.0), default=10.0,
              show_default=True, help="Seconds a claim waits for a face.")
@click.option("--json", "as_json", is_flag=True, help="Status and summary as JSON lines.")
def watch_command(db: Path, source: str, camera: str, seconds: float | None, interval: float,
                  claims: tuple[str, ...], claim_purpose: str | None, claim_window: float,
                  as_json: bool) -> None:
    """Recognise faces on SOURCE (a stream URL, /dev/videoN or a video file) as CAMERA.

    Only enrolled people are decided and recorded; of anyone else only counts remain.
    A verification camera decides only a claimed identity (--claim), 1:1, once.
    """
    with open_store(db) as d:
        session = d.watch(camera, source=source, operator="cli")
        try:
            for subject in claims:
                claim = d.claim(camera, subject=subject, purpose=claim_purpose,
                                window=claim_window, operator="cli")
                click.echo(f"claim {claim.id} waits {claim_window:g} s for a face", err=True)
        except BaseException:
            session.stop(operator="cli")
            raise
        live = sys.stderr.isatty() and not as_json
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while not session.wait(interval):
                status = session.status().as_dict()
                if as_json:
                    click.echo(json.dumps({"camera": camera, **status}, sort_keys=True))
                else:
                    click.echo(("\r" if live else "") + _line(camera, status),
                               err=True, nl=not live)
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except KeyboardInterrupt:
            pass
        summary = session.stop(operator="cli")
        if live:
            click.echo("", err=True)
    if summary is None:
        click.echo(f"facegate: camera {camera}: the session's end was not recorded", err=True)
        sys.exit(1)
    if as_json:
        echo_json({"camera": camera, "session": summary.session_id, "why": summary.why,
                   "counts": summary.counts})
        return
    c = summary.counts
    click.echo(f"camera {camera} session {summary.session_id} {summary.why}: "
               f"{c['frames']} frames, {c['faces_seen']} faces seen, {c['tracks']} tracks, "
               f"{c['matches']} matches, {c['no_matches']} no match, {c['refused']} refused, "
               f"{c['undecided']} undecided, {c['embeddings']} descriptors")


CAMERA_COMMANDS = (camera_group, watch_command)
