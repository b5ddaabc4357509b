"""The governed commands of the ``facegate`` CLI: a thin adapter over :class:`Deployment`.

Every command opens the deployment store (``--db``, or ``$FACEGATE_DB``,
default ``facegate.db``; its key file is ``<db>.keys`` or ``$FACEGATE_KEYS``),
makes one library call and prints its result. A
refusal is one line on stderr citing the rule, and exit status 1::

    facegate: consent.missing: subject s_... has not given separate consent
    for attendance [R2 cn-2025 Art. 6]

Nothing here decides anything: the rules live in :mod:`facegate.policy`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from ..consent.alternatives import AlternativeResult, AlternativeRoute
from ..consent.ledger import ConsentScope
from ..deployment import Deployment
from ..deployment.config import apply_config, read_config
from ..errors import Error, PolicyRefusal
from ..jurisdictions import ConsentMethod
from ..subjects.models import AgeBand

__all__ = ["GOVERNED_COMMANDS", "db_option", "echo_json", "open_store", "refusal_line"]

_F = TypeVar("_F", bound=Callable[..., Any])


def refusal_line(exc: Error) -> str:
    """``facegate: <code>: <message> [<rule> <jurisdiction> <article>]``."""
    line = f"facegate: {exc.code}: {exc.message}"
    if isinstance(exc, PolicyRefusal) and exc.citation():
        line += f" [{exc.citation()}]"
    return line


def db_option(f: _F) -> _F:
    return click.option("--db", "db", envvar="FACEGATE_DB", default="facegate.db",
                        show_default=True,
                        help="The deployment store: an SQLite file or a postgresql:// URL "
                             "(env FACEGATE_DB).")(f)


@contextmanager
def open_store(db: str | Path, *, create: bool = False) -> Iterator[Deployment]:
    """Open the store (a missing one is an error, except for ``init``, which creates it);
    turn any facegate error into one line and exit status 1."""
    ctx = click.get_current_context()
    analyzer = (ctx.obj or {}).get("analyzer") if isinstance(ctx.obj, dict) else None
    keys = os.environ.get("FACEGATE_KEYS") or None
    try:
        with Deployment.open(db, analyzer=analyzer, keys=keys, create=create) as deployment:
            yield deployment
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))


@click.command("init")
@db_option
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML/JSON file registering the processor, sites and purposes.")
def init_command(db: Path, config: Path | None) -> None:
    """Create the deployment store; optionally register the books from CONFIG.

    All or nothing: a CONFIG that fails leaves no store behind when the store is new,
    and is first rehearsed on an empty scratch store when it is not (or is PostgreSQL).
    """
    data = _config_or_exit(config) if config else None
    local = "://" not in str(db)
    new_files = ([] if not local or Path(db).exists() else
                 [Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm", "-journal",
                                                       ".keys", ".keys.lock")])
    if data is not None and not new_files:
        _rehearse(config, data)
    done = False
    try:
        with open_store(db, create=True) as d:
            lines = _apply_or_exit(d, config, data) if data is not None else []
            click.echo(f"store {db} ready")
            for line in lines:
                click.echo(f"registered {line}")
        done = True
    finally:
        if not done:
            for path in new_files:
                path.unlink(missing_ok=True)


def _config_or_exit(config: Path) -> dict[str, Any]:
    try:
        return read_config(config)
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)


def _apply_or_exit(d: Deployment, config: Path | None, data: dict[str, Any]) -> list[str]:
    """Register the books in ``data``; a refusal names the file it came from."""
    try:
        return apply_config(d, data)
    except Error as exc:
        exc.message = f"{config}: {exc.message}"
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)


def _rehearse(config: Path | None, data: dict[str, Any]) -> None:
    """Apply ``data`` to an empty scratch store first, so that a bad CONFIG is refused
    before anything is written to the real one."""
    with (tempfile.TemporaryDirectory(prefix="facegate-config-") as scratch,
          Deployment.open(Path(scratch) / "rehearsal.db", keys=Path(scratch) / "rehearsal.keys",
                          create=True) as d):
        _apply_or_exit(d, config, data)


@click.command("register")
@db_option
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def register_command(db: Path, config: Path) -> None:
    """Register the processor, sites, purposes, notices and assessments in CONFIG."""
    data = _config_or_exit(config)
    with open_store(db) as d:
        for line in _apply_or_exit(d, config, data):
            click.echo(f"registered {line}")


@click.group("purpose")
def purpose_group() -> None:
    """Register, activate, calibrate and list purposes; move them to another model pack."""


@purpose_group.command("add")
@db_option
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def purpose_add(db: Path, config: Path) -> None:
    """Register the purposes in CONFIG (a [[purposes]] TOML/JSON file)."""
    data = read_config(config)
    with open_store(db) as d:
        for line in apply_config(d, {"purposes": data.get("purposes", [data])}):
            click.echo(f"registered {line}")


@purpose_group.command("activate")
@db_option
@click.argument("key")
def purpose_activate(db: Path, key: str) -> None:
    """Put purpose KEY live (needs a complete notice, an alternative and a current PIA)."""
    with open_store(db) as d:
        click.echo(f"{d.activate_purpose(key).key}: active")
        for warning in d.activation_warnings(key):
            click.echo(f"warning: {warning} [R21]", err=True)


@purpose_group.command("calibrate")
@db_option
@click.argument("key")
@click.argument("data", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--population", required=True,
              help="Whom the photos show, e.g. 'staff of the Shanghai office'.")
@click.option("--target-fmr", type=click.FloatRange(1e-7, 0.5), default=1e-3,
              show_default=True, help="False-match rate the threshold is chosen for.")
@click.option("--pairs", "pairs_file", type=click.Path(path_type=Path), default=None,
              help="Pairs file (path1 path2 same, or LFW's pairs.txt); default: found in DATA.")
@click.option("--groups", "groups_file", type=click.Path(path_type=Path), default=None,
              help="person<TAB>group lines, for per-group rates.")
@click.option("--pack", default=None, help="Pack to calibrate (default: the one it enrolls with).")
def purpose_calibrate(db: Path, key: str, data: Path, population: str, target_fmr: float,
                      pairs_file: Path | None, groups_file: Path | None,
                      pack: str | None) -> None:
    """Measure purpose KEY's pack on labelled photos of its population (DATA) and lock the
    threshold for the target false-match rate to it (R21)."""
    with open_store(db) as d:
        c = d.calibrate_purpose(purpose=key, data=data, population=population,
                                target_fmr=target_fmr, pairs_file=pairs_file,
                                groups_file=groups_file, pack=pack)
        summary = c.summary()
        click.echo(f"calibration {c.id} for {key}: {c.pack} threshold {c.threshold:.4f} at FMR "
                   f"{c.target_fmr:g} on {c.population} ({c.genuine_pairs} same-person, "
                   f"{c.impostor_pairs} different-person pairs)")
        for name in ("fmr", "fnmr"):
            rate = summary[name]
            if rate:
                lo, hi = rate["ci95"]
                click.echo(f"  {name.upper()} {100 * rate['value']:.2f}% "
                           f"[{100 * lo:.2f}-{100 * hi:.2f}] ({rate['errors']}/{rate['trials']})")


@purpose_group.command("card")
@db_option
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
def purpose_card(db: Path, key: str, as_json: bool) -> None:
    """The model card of purpose KEY: pack, provenance, threshold and its calibration (R21)."""
    with open_store(db) as d:
        card = d.model_card(key)
    if as_json:
        echo_json(card)
        return
    pack = card["pack"]
    click.echo(f"purpose {card['purpose']} ({', '.join(card['modes'])}), serving "
               f"{card['population']}")
    click.echo(f"pack: {pack['id']} {pack['version']}, licence: {pack['licence']}")
    click.echo(f"provenance: {pack['provenance']}")
    click.echo(f"threshold: {card['threshold']:.4f} ({card['threshold_source']})")
    calibration = card["calibration"] or card["shipped_calibration"]
    if calibration:
        for name in ("fmr", "fnmr"):
            rate = calibration[name]
            if rate:
                lo, hi = rate["ci95"]
                click.echo(f"  {name.upper()} at it: {100 * rate['value']:.2f}% "
                           f"[{100 * lo:.2f}-{100 * hi:.2f}] on {calibration['dataset']} "
                           f"({calibration['population']})")
    evaluated = "yes" if card["threshold_is_evaluated"] else "no"
    click.echo(f"threshold is the evaluated one: {evaluated}")
    for caveat in card["caveats"]:
        click.echo(f"caveat: {caveat}")
    if card["migration"]:
        m = card["migration"]
        click.echo(f"moving to {m['to_pack']} until {m['ends_at']}")
    for warning in card["warnings"]:
        click.echo(f"warning: {warning}")


@purpose_group.command("migrate")
@db_option
@click.argument("key")
@click.option("--to", "pack", required=True, help="The pack to move to.")
@click.option("--window-days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="How long templates of both packs stay valid.")
def purpose_migrate(db: Path, key: str, pack: str, window_days: int) -> None:
    """Start moving purpose KEY to another model pack: subjects re-enroll with it."""
    with open_store(db) as d:
        m = d.begin_pack_migration(purpose=key, pack=pack, window_days=window_days)
    click.echo(f"{key}: moving from {m.from_pack} to {m.to_pack} until {m.ends_at}; "
               f"{m.subjects_pending} subject(s) to re-enroll")


@purpose_group.command("finish-migration")
@db_option
@click.argument("key")
def purpose_finish_migration(db: Path, key: str) -> None:
    """End purpose KEY's move to another pack: erase the old pack's templates."""
    with open_store(db) as d:
        m = d.finish_pack_migration(purpose=key)
    click.echo(f"{key}: now on {m.to_pack}; {m.templates_erased} {m.from_pack} template(s) "
               f"erased, {m.subjects_pending} subject(s) must enroll again")


@purpose_group.command("list")
@db_option
def purpose_list(db: Path) -> None:
    """List the purposes and their status."""
    with open_store(db) as d:
        for p in d.purposes():
            click.echo(f"{p.key}\t{p.status}\t{','.join(sorted(p.modes))}\t{p.site_key}\t{p.pack}")


@click.command("subject")
@db_option
@click.option("--ref", "external_ref", help="Your own reference (staff number...).")
@click.option("--birth-date", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--age-band", type=click.Choice([b.value for b in AgeBand]))
def subject_command(db: Path, external_ref: str | None, birth_date: Any,
                    age_band: str | None) -> None:
    """Register a subject and print their pseudonymous id."""
    born: date | None = birth_date.date() if birth_date else None
    with open_store(db) as d:
        click.echo(d.register_subject(external_ref=external_ref, birth_date=born,
                                      age_band=age_band).id)


@click.group("consent")
def consent_group() -> None:
    """Record and withdraw consent."""


@consent_group.command("record")
@db_option
@click.option("--subject", required=True)
@click.option("--purpose", required=True)
@click.option("--notice-version", type=int, required=True,
              help="The version of the notice the subject was shown.")
@click.option("--method", type=click.Choice([m.value for m in ConsentMethod]), required=True)
@click.option("--bundled", is_flag=True, help="Consent was part of other terms (refused, R3).")
@click.option("--guardian", help="Name of the parent or guardian consenting for a child.")
@click.option("--relation", help="The guardian's relation to the child.")
@click.option("--scope", type=click.Choice([s.value for s in ConsentScope]),
              default=ConsentScope.BIOMETRIC.value, show_default=True)
def consent_record(db: Path, subject: str, purpose: str, notice_version: int, method: str,
                   bundled: bool, guardian: str | None, relation: str | None,
                   scope: str) -> None:
    """Record a separate consent for SUBJECT and PURPOSE."""
    with open_store(db) as d:
        event = d.record_consent(subject=subject, purpose=purpose, notice_version=notice_version,
                                 method=method, separate=not bundled, guardian=guardian,
                                 guardian_relation=relation, scope=scope)
        click.echo(f"consent #{event.seq} recorded: {subject} {purpose} notice v{notice_version}")


@consent_group.command("withdraw")
@db_option
@click.option("--subject", required=True)
@click.option("--purpose", required=True)
def consent_withdraw(db: Path, subject: str, purpose: str) -> None:
    """Withdraw consent; the purpose's templates of the subject are deleted."""
    with open_store(db) as d:
        receipt = d.withdraw_consent(subject=subject, purpose=purpose)
        click.echo(f"consent withdrawn: {receipt.templates_deleted} template(s) deleted")


@click.command("enroll")
@db_option
@click.option("--subject", required=True)
@click.option("--purpose", required=True)
@click.option("--retain-image", is_flag=True,
              help="Keep the image, sealed (needs separate retain_image consent, R10).")
@click.option("--liveness", help="Receipt of a passed liveness check (facegate liveness check).")
@click.argument("image", type=click.Path(path_type=Path))
def enroll_command(db: Path, subject: str, purpose: str, retain_image: bool,
                   liveness: str | None, image: Path) -> None:
    """Enroll SUBJECT's face from IMAGE for PURPOSE (the image is not kept unless asked)."""
    with open_store(db) as d:
        e = d.enroll(subject=subject, purpose=purpose, image=image, retain_image=retain_image,
                     liveness=liveness)
        click.echo(f"enrolled {e.subject_id} for {e.purpose_key} until "
                   f"{e.expires_at.date().isoformat()}")


def _route_line(route: AlternativeRoute) -> str:
    """The alternatives by key: what ``alternative record --method`` takes."""
    return f"route_to_alternative: {', '.join(a.key for a in route.alternatives)}"


#: ``verify``'s exit status when the face did not match, and when the photo left it
#: undecided (a refusal is 1, a usage error 2); docs/governed.md lists them
EXIT_NO_MATCH = 3
EXIT_UNDECIDED = 4


@click.command("verify")
@db_option
@click.option("--subject", help="Who the person claims to be (not needed with --decline).")
@click.option("--purpose", required=True)
@click.option("--decline", is_flag=True, help="The person declines face recognition (R7).")
@click.option("--liveness", help="Receipt of a passed liveness check (facegate liveness check).")
@click.argument("image", type=click.Path(path_type=Path), required=False)
def verify_command(db: Path, subject: str | None, purpose: str, decline: bool,
                   liveness: str | None, image: Path | None) -> None:
    """Verify (1:1) that IMAGE shows SUBJECT, for PURPOSE.

    Exit status: 0 a match (or, with --decline, the route to the alternative), 1 a
    refusal, 2 a usage error, 3 no match, 4 undecided (take another photo).
    """
    if decline:
        with open_store(db) as d:
            click.echo(_route_line(d.decline(purpose=purpose, subject=subject)))
        return
    if image is None or subject is None:
        raise click.UsageError("give --subject and an IMAGE, or --decline")
    with open_store(db) as d:
        result = d.verify(subject=subject, purpose=purpose, image=image, liveness=liveness)
        if isinstance(result, AlternativeRoute):
            click.echo(_route_line(result))
            return
        verdict = "match" if result.matched else "no match"
        if not result.decided:
            verdict = ("undecided (the photo is outside what the calibration measured: "
                       f"{', '.join(result.quality)}; take another)")
        distance = "n/a" if result.distance is None else f"{result.distance:.4f}"
        click.echo(f"{verdict}: distance {distance}, threshold {result.threshold}, "
                   f"pack {result.pack}")
    if not result.decided:
        sys.exit(EXIT_UNDECIDED)
    if not result.matched:
        sys.exit(EXIT_NO_MATCH)


@click.command("identify")
@db_option
@click.option("--purpose", required=True)
@click.argument("image", type=click.Path(path_type=Path))
def identify_command(db: Path, purpose: str, image: Path) -> None:
    """Identify (1:N) every face in IMAGE within PURPOSE's gallery."""
    with open_store(db) as d:
        result = d.identify(purpose=purpose, image=image)
        several = len(result.faces) > 1
        for face in result.faces:
            prefix = f"face {face.face}: " if several else ""
            if face.no_match:
                click.echo(f"{prefix}no_match (gallery of {result.gallery_size})")
            for c in face.candidates:
                fmr = "" if c.fmr is None else f", FMR {c.fmr.describe()} on the calibration"
                case = f", review case {c.review_case} (pending)" if c.review_case else ""
                click.echo(f"{prefix}candidate {c.subject_id}: distance {c.distance:.4f} "
                           f"({c.pack}{fmr}){case}")


@click.group("alternative")
def alternative_group() -> None:
    """The non-biometric path (R7)."""


@alternative_group.command("record")
@db_option
@click.option("--purpose", required=True)
@click.option("--method", required=True, help="One of the purpose's alternatives.")
@click.option("--result", type=click.Choice([r.value for r in AlternativeResult]),
              required=True)
@click.option("--subject")
def alternative_record(db: Path, purpose: str, method: str, result: str,
                       subject: str | None) -> None:
    """Record the outcome of an alternative check."""
    with open_store(db) as d:
        outcome = d.record_alternative_outcome(purpose=purpose, method=method, result=result,
                                               subject=subject)
        click.echo(f"alternative #{outcome.id}: {outcome.method} {outcome.result}")


@click.command("filing")
@db_option
def filing_command(db: Path) -> None:
    """Show stored individuals against the filing threshold, and filing records (R17, R18)."""
    with open_store(db) as d:
        status = d.filing_status()
        click.echo(f"individuals stored: {status.individuals}; threshold: "
                   f"{status.threshold or 'none'}; early warning at: "
                   f"{status.warning_at or 'none'}")
        for r in status.records:
            due = f", due {r.due_on.isoformat()}" if r.due_on else ""
            click.echo(f"{r.kind} on {r.triggered_on.isoformat()}{due}: {r.reason}")


@click.command("governed-demo")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The shared data folder (default: $FACEGATE_DATA or ../shared/data).")
def governed_demo_command(data: Path | None) -> None:
    """Walk through the governed flow on a fresh store in a temporary folder."""
    from ..demo.governed import run

    sys.exit(run(data, echo=click.echo))


#: The commands :mod:`facegate.cli` adds to its group.
GOVERNED_COMMANDS: tuple[click.Command, ...] = (
    init_command, register_command, purpose_group, subject_command, consent_group,
    enroll_command, verify_command, identify_command, alternative_group, filing_command,
    governed_demo_command,
)
