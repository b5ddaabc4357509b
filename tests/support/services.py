"""Real service processes for the tests that need several: ``facegate serve`` (or uvicorn
with the settings in the environment) on loopback, started and stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from facegate.api.settings import ENV_SETTINGS, ApiSettings

from .net import free_port

__all__ = ["Service", "start_serve", "start_with_settings"]


@dataclass
class Service:
    """One service process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service stopped: {self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the service did not become ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM, then wait (uvicorn drains what is in flight)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def kill(self) -> None:
        """SIGKILL: the process ends at once, mid-work."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def start_serve(database: str, keys: Path, log: Path, *args: str) -> Service:
    """``facegate serve --database DATABASE --keys KEYS`` with ``args``, on a free port."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
             "--database", database, "--keys", str(keys), "--port", str(port), *args],
            stdout=subprocess.DEVNULL, stderr=out)
    return Service(process=process, base=f"http://127.0.0.1:{port}", log=log)


def start_with_settings(settings: ApiSettings, log: Path) -> Service:
    """``uvicorn --factory facegate.api.app:app_from_environment`` with ``settings`` in the
    environment (what every worker of ``facegate serve --workers N`` runs)."""
    port = free_port()
    env = {**os.environ, ENV_SETTINGS: settings.to_json()}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory",
             "facegate.api.app:app_from_environment", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=out, env=env)
    return Service(process=process, base=f"http://127.0.0.1:{port}", log=log)
