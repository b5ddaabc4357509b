"""Central mode: several processes on one PostgreSQL store stay consistent.

Enrollment in one deployment is identifiable through another; an erasure done
by another process stops matches at the next identification; audit entries
appended by two processes at once keep one valid chain (the writer lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import TransferNotPermitted

from ..support.asserts import assert_refused
from ..support.governed import add_purpose, consent
from ..support.postgres import PostgresServer
from ..support.words import both

REPO = Path(__file__).resolve().parents[2]
ACCESS = "access.office.entry"


@dataclass
class Central:
    """One fresh PostgreSQL database and its key file."""

    url: str
    keys: Path
    open: Callable[[], Deployment]


@pytest.fixture
def central(postgres_server: PostgresServer, tmp_path: Path, clock: FixedClock,
            analyzer: FaceAnalyzer) -> Iterator[Central]:
    """Open deployments (each with its own connection) on one fresh PostgreSQL database."""
    url = postgres_server.create_database("central")
    keys = tmp_path / "central.keys"
    opened: list[Deployment] = []

    def factory() -> Deployment:
        d = Deployment.open(url, keys=keys, clock=clock, analyzer=analyzer, create=True)
        opened.append(d)
        return d

    yield Central(url=url, keys=keys, open=factory)
    for d in opened:
        d.close()


def _worker(store: Central, *args: str) -> subprocess.Popen[str]:
    """Another process running :mod:`tests.support.central_worker` on the same store."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "tests.support.central_worker", args[0],
                             store.url, str(store.keys), *args[1:]], cwd=REPO, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(*processes: subprocess.Popen[str]) -> None:
    """Wait for every process (killing the rest if one hangs); each must have printed ok."""
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=300)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for code, out, err in results:
        assert (code, out.strip()) == (0, "ok"), err


def _books(d: Deployment) -> None:
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", province=both("Shanghai"),
                         security_measures=both("central store, access control"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, ACCESS)


def test_an_enrollment_on_one_deployment_is_identifiable_on_another(
        central: Central, faces: dict[str, Path]) -> None:
    a, b = central.open(), central.open()
    _books(a)
    bob = a.register_subject(age_band="adult")
    consent(a, bob.id, ACCESS)
    a.enroll(subject=bob.id, purpose=ACCESS, image=faces["biden"])
    assert b.identify(purpose=ACCESS, image=faces["obama2"]).no_match  # B builds its index
    alice = a.register_subject(age_band="adult")
    consent(a, alice.id, ACCESS)
    a.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    found = b.identify(purpose=ACCESS, image=faces["obama2"])  # A's write, noticed by B
    assert found.candidates[0].subject_id == alice.id
    a.erase_subject(alice.id)
    assert b.identify(purpose=ACCESS, image=faces["obama2"]).no_match
    assert b.identify(purpose=ACCESS, image=faces["biden"]).candidates[0].subject_id == bob.id
    assert b.verify_audit().entries == a.verify_audit().entries


def test_an_erasure_by_another_process_stops_matches_at_once(
        central: Central, faces: dict[str, Path]) -> None:
    d = central.open()
    _books(d)
    alice = d.register_subject(age_band="adult")
    consent(d, alice.id, ACCESS)
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert d.identify(purpose=ACCESS, image=faces["obama2"]).candidates[0].subject_id == alice.id
    _finish(_worker(central, "erase", alice.id))
    assert d.identify(purpose=ACCESS, image=faces["obama2"]).no_match
    assert d.template_count(purpose=ACCESS) == 0
    (receipt,) = d.audit_events("subject-erased")
    assert receipt.subject_id == alice.id


def test_audit_appends_from_two_processes_at_once_keep_one_chain(
        central: Central) -> None:
    d = central.open()
    _books(d)
    before = d.verify_audit().entries
    workers = [_worker(central, "subjects", "40") for _ in range(2)]
    try:
        for _ in range(40):
            d.register_subject(age_band="adult")
    finally:
        _finish(*workers)
    report = d.verify_audit()
    assert report.entries == before + 120
    seqs = [e.seq for e in d.audit_events()]
    assert seqs == list(range(1, before + 121))


def test_r8_a_central_store_takes_central_purposes_and_transfer_consent_only(
        central: Central, faces: dict[str, Path]) -> None:
    d = central.open()
    _books(d)
    assert d.central_store
    add_purpose(d, "access.lab", storage_mode="device")
    alice = d.register_subject(age_band="adult")
    notice = d.notice("access.lab")
    assert notice is not None
    d.record_consent(subject=alice.id, purpose="access.lab", notice_version=notice.version,
                     method="written")
    d.record_consent(subject=alice.id, purpose="access.lab", notice_version=notice.version,
                     method="written", scope="transfer")
    with pytest.raises(TransferNotPermitted) as device:
        d.enroll(subject=alice.id, purpose="access.lab", image=faces["obama"])
    assert_refused(device.value, "transfer.not_permitted", "R8")
    assert "storage mode is device" in device.value.message
    d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=1, method="written")
    with pytest.raises(TransferNotPermitted) as no_transfer:
        d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert_refused(no_transfer.value, "transfer.not_permitted", "R8")
    d.record_consent(subject=alice.id, purpose=ACCESS, notice_version=1, method="written",
                     scope="transfer")
    d.enroll(subject=alice.id, purpose=ACCESS, image=faces["obama"])
    assert d.template_count(purpose=ACCESS, subject=alice.id) == 1
    assert d.template_count(purpose="access.lab") == 0
