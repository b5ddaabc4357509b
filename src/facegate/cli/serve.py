"""``facegate serve`` (the REST service) and ``facegate api-key`` (its API keys).

``serve`` runs the FastAPI application (the REST API, the kiosk and the
dashboard) under uvicorn on 127.0.0.1 with the embedded SQLite store by
default (``--database postgresql://...`` for central mode); ``--workers N``
runs N processes on the same store (docs/api.md, "Several processes"). ``--demo`` first
sets up a demo deployment and prints its keys, a first request to try and the
kiosk's and dashboard's addresses. Structured request logs go to stderr,
without images, templates or raw paths.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import click

from ..errors import Error
from .governed import db_option, open_store, refusal_line

__all__ = ["SERVE_COMMANDS"]


@click.command("serve")
@click.option("--database", "--db", "database", envvar="FACEGATE_DB", default="facegate.db",
              show_default=True, help="SQLite file, or a postgresql:// URL (central mode).")
@click.option("--keys", envvar="FACEGATE_KEYS", default=None,
              help="Key file (default: <database>.keys for SQLite).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes serving the same store (sessions, rate limits and "
                   "gallery changes are shared through it).")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Requests each worker serves at once.")
@click.option("--engine-threads", default=1, show_default=True, type=click.IntRange(0, 64),
              help="ONNX Runtime threads for one engine run (0: its default, all cores); "
                   "each worker runs as many engine runs at once as the machine has cores.")
@click.option("--max-body", default=16 * 1024 * 1024, show_default=True, type=int,
              help="Largest request body in bytes.")
@click.option("--rate", default=1200, show_default=True, type=int,
              help="Requests per minute per API key (across all workers).")
@click.option("--sweep-interval", default=3600.0, show_default=True, type=float,
              help="Seconds between scheduled retention sweeps (one worker sweeps, under a "
                   "lease in the store); 0 turns them off.")
@click.option("--integrity-interval", default=300.0, show_default=True, type=float,
              help="Seconds between full checks of the store by each worker (every row's "
                   "tag against the signed checkpoint); 0 turns them off.")
@click.option("--forwarded-allow-ips", default=None,
              help="Addresses of the reverse proxies whose X-Forwarded-* headers are trusted "
                   "(default: 127.0.0.1).")
@click.option("--demo", is_flag=True, help="Set up a demo deployment first and print its keys.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="With --demo: the shared data folder (default: ../shared/data if present).")
def serve_command(database: str, keys: str | None, host: str, port: int, workers: int,
                  threads: int, engine_threads: int, max_body: int, rate: int,
                  sweep_interval: float, integrity_interval: float,
                  forwarded_allow_ips: str | None, demo: bool, data: Path | None) -> None:
    """Run the REST service (see docs/api.md)."""
    import uvicorn

    from ..api import ApiSettings, create_app
    from ..api.settings import ENV_SETTINGS

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if demo:
        _demo(database, keys, host, port, data)
    else:
        _check_store(database, keys)
    settings = ApiSettings(database=database, keys=keys, max_body_bytes=max_body,
                           rate_per_minute=rate, threads=threads,
                           engine_threads=engine_threads or None,
                           sweep_interval=sweep_interval,
                           integrity_interval=integrity_interval)
    if not demo:
        click.echo(f"kiosk: http://{host}:{port}/kiosk   "
                   f"dashboard: http://{host}:{port}/dashboard", err=True)
    options = {"host": host, "port": port, "access_log": False, "log_level": "info",
               "timeout_graceful_shutdown": 10, "proxy_headers": True,
               **({"forwarded_allow_ips": forwarded_allow_ips} if forwarded_allow_ips else {})}
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
            return
        # Open the store once here: migrations, a new store's keys and the erasure ledger
        # are applied before any worker starts, not by several at once.
        from ..deployment import Deployment

        Deployment.open(database, keys=keys).close()
        with tempfile.TemporaryDirectory(prefix="facegate-metrics-") as metrics:
            os.environ[ENV_SETTINGS] = settings.to_json()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
            uvicorn.run("facegate.api.app:app_from_environment", factory=True,
                        workers=workers, **options)  # type: ignore[arg-type]
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)


def _check_store(database: str, keys: str | None) -> None:
    """Open the store once before serving, so a missing, older or tampered store is one
    line and exit status 1 (only ``init`` and ``--demo`` create a store)."""
    from ..deployment import Deployment

    try:
        Deployment.open(database, keys=keys).close()
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)


def _demo(database: str, keys: str | None, host: str, port: int, data: Path | None) -> None:
    from ..demo.service import DEMO_PURPOSE, prepare_demo, staff_file
    from ..deployment import Deployment

    keys_file = Path(f"{database}.demo-keys.json")
    try:
        with Deployment.open(database, keys=keys, create=True) as d:
            secrets = prepare_demo(d, keys_file, data=data, echo=click.echo)
    except Error as exc:
        click.echo(refusal_line(exc), err=True)
        sys.exit(1)
    base = f"http://{host}:{port}"
    click.echo("\nkeys (each shown here once; also in the keys file):")
    for label, secret in secrets.items():
        click.echo(f"  {label:24s} {secret}")
    people = staff_file(keys_file)
    if people.exists():
        click.echo(f"\nstaff accounts for the dashboard (also in {people}): name, password, "
                   "TOTP secret (add it to an authenticator app)")
        for name, account in json.loads(people.read_text("utf-8")).items():
            click.echo(f"  {name:6s} {account['role']:9s} {account['password']}  "
                       f"{account['totp_secret']}")
    operator = secrets["lobby door controller"]
    click.echo(f"""
point curl at {base}:
  curl {base}/v1/purposes/{DEMO_PURPOSE}/notice
  curl -H 'X-API-Key: {operator}' -H 'content-type: application/json' \\
       -X POST {base}/v1/subjects -d '{{"age_band": "adult"}}'
  curl -H 'X-API-Key: {secrets["external auditor"]}' {base}/v1/audit/verify
the OpenAPI document: {base}/openapi.json
docs/api.md, "A walkthrough", goes from consent through identification, review,
withdrawal and erasure to the audit check and the documents (paste it in the repository root)

in a browser (docs/web.md):
  the kiosk:     {base}/kiosk      sign in once with the operator key above
  the dashboard: {base}/dashboard  sign in with a staff account above (name, password and
                 the six-digit code from an authenticator app holding its TOTP secret)
""")


@click.group("api-key")
def keys_group() -> None:
    """Issue, list and revoke the service's API keys."""


@keys_group.command("issue")
@db_option
@click.option("--role", type=click.Choice(["admin", "operator", "reviewer", "auditor"]),
              required=True)
@click.option("--label", required=True, help="Who or what holds the key.")
@click.option("--purpose", "purposes", multiple=True, help="Limit to this purpose (repeat).")
@click.option("--site", "sites", multiple=True, help="Limit to this site (repeat).")
def keys_issue(db: Path, role: str, label: str, purposes: tuple[str, ...],
               sites: tuple[str, ...]) -> None:
    """Issue a key and print its secret (shown only now)."""
    with open_store(db) as d:
        issued = d.issue_api_key(role=role, label=label, purposes=purposes or None,
                                 sites=sites or None, operator=f"cli:{os.getuid()}")
        click.echo(f"{issued.key.id}\t{role}\t{issued.secret}")


@keys_group.command("list")
@db_option
def keys_list(db: Path) -> None:
    """Every key (never its secret)."""
    with open_store(db) as d:
        for k in d.api_keys():
            scope = ",".join(sorted(k.purposes)) if k.purposes is not None else "*"
            state = "revoked" if k.revoked_at else "live"
            click.echo(f"{k.id}\t{k.role}\t{state}\t{scope}\t{k.label}")


@keys_group.command("revoke")
@db_option
@click.argument("key_id")
def keys_revoke(db: Path, key_id: str) -> None:
    """Revoke a key at once."""
    with open_store(db) as d:
        d.revoke_api_key(key_id, operator=f"cli:{os.getuid()}")
        click.echo(f"{key_id}: revoked")


SERVE_COMMANDS = (serve_command, keys_group)
