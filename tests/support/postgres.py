"""A real, throw-away PostgreSQL server for the central-mode tests.

:func:`start_server` finds the server binaries (``initdb``, ``pg_ctl``,
``postgres``) in ``PATH`` or ``/usr/lib/postgresql/*/bin``, creates a cluster in
a temporary folder (C locale, trust authentication, no fsync), starts it on a
free port of 127.0.0.1 with its socket in the same folder, and
:meth:`PostgresServer.stop` stops it and removes the folder. ``initdb`` refuses
to run as root, so when the tests run as root the binaries run as the
``postgres`` system user (``runuser -u postgres --``) and the folder is
given to that user. Without the binaries (or psycopg) the tests that need the
server skip and say why; ``scripts/test.sh`` installs Debian's ``postgresql``
package when it can.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .net import free_port

BINARIES = ("initdb", "pg_ctl", "postgres")


def find_binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
        candidates.append(Path(initdb).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                           key=_version, reverse=True)]
    for folder in candidates:
        if all((folder / b).is_file() and os.access(folder / b, os.X_OK) for b in BINARIES):
            return folder
    return None


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def unavailable() -> str | None:
    """Why no server can be started here, or ``None`` when one can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'facegate[postgres]')"
    if find_binaries() is None:
        return ("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in PATH or "
                "/usr/lib/postgresql/*/bin; install Debian's postgresql package")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None



@dataclass
class PostgresServer:
    """A running throw-away cluster; :meth:`create_database` gives a fresh database."""

    root: Path
    bindir: Path
    port: int
    as_postgres: bool
    _count: itertools.count[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server (user ``postgres``, trust login)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "facegate") -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{next(self._count)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        _run(self, "pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop",
             check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(server: PostgresServer, binary: str, *args: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [str(server.bindir / binary), *args]
    if server.as_postgres:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120,
                          cwd=server.root)


def start_server() -> PostgresServer:
    """Create and start a cluster (see the module docstring); the caller must :meth:`stop` it.

    Raises:
        RuntimeError: :func:`unavailable` gives a reason, or the server did not start
            (the message holds its log).
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    bindir = find_binaries()
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="facegate-pg-"))
    as_postgres = os.geteuid() == 0
    if as_postgres:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(root=root, bindir=bindir, port=free_port(), as_postgres=as_postgres)
    try:
        _run(server, "initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust",
             "--locale=C", "-E", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} "
                   f"-c unix_socket_directories={root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        started = _run(server, "pg_ctl", "-D", str(root / "data"), "-o", options,
                       "-l", str(root / "server.log"), "-w", "-t", "60", "start", check=False)
        if started.returncode != 0:
            log = (root / "server.log").read_text(errors="replace") if (
                root / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log}")
    except BaseException:
        server.stop()
        raise
    return server
