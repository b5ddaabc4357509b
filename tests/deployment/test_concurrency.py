"""Calls on many threads at once, and several deployments on one store: writers keep one
gap-free audit chain, biometric calls run side by side, a consent withdrawn while the
engine runs still refuses, gallery indexes follow each other's writes through the change
sequence, and one process at a time sweeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facegate.deployment import Deployment
from facegate.errors import ConsentWithdrawn
from facegate.matching import service as matching

from ..support.governed import consent

ACCESS = "access.office.entry"


def _in_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # collected, the test asserts none
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


@pytest.mark.both_stores
def test_eight_writer_threads_leave_one_gap_free_chain(books: Deployment) -> None:
    head = books.audit_head()
    assert _in_threads(8, lambda i: [books.register_subject(age_band="adult")
                                     for _ in range(10)]) == []
    report = books.verify_audit()
    seqs = [e.seq for e in books.audit_events()]
    assert seqs == list(range(1, len(seqs) + 1)) and report.entries == seqs[-1]
    assert len(books.audit_events("subject-registered", after=head)) == 80


@pytest.mark.both_stores
def test_verifications_run_side_by_side(books: Deployment, faces: dict[str, Path]) -> None:
    people = []
    for photo in ("obama", "lennon1"):
        s = books.register_subject(age_band="adult").id
        consent(books, s, ACCESS)
        books.enroll(subject=s, purpose=ACCESS, image=faces[photo])
        people.append(s)
    probes = [faces["obama2"].read_bytes(), faces["lennon2"].read_bytes()]
    results: list[Any] = []

    def verify(i: int) -> None:
        for _ in range(2):
            results.append(books.verify(subject=people[i % 2], purpose=ACCESS,
                                        image=probes[i % 2]))

    assert _in_threads(4, verify) == []
    assert len(results) == 8 and all(r.matched for r in results)
    assert len(books.audit_events("verify")) == 8
    assert books.verify_audit().entries == books.audit_head()


def test_a_consent_withdrawn_while_the_engine_runs_still_refuses(
        books: Deployment, open_deployment: Callable[..., Deployment],
        faces: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    alice = books.register_subject(age_band="adult").id
    consent(books, alice, ACCESS)
    books.enroll(subject=alice, purpose=ACCESS, image=faces["obama"])
    elsewhere = open_deployment()  # another process's view of the same store
    engine = matching.embed_probe

    def withdrawn_meanwhile(*args: Any, **kwargs: Any) -> Any:
        probes = engine(*args, **kwargs)
        elsewhere.withdraw_consent(subject=alice, purpose=ACCESS)
        return probes

    monkeypatch.setattr(matching, "embed_probe", withdrawn_meanwhile)
    with pytest.raises(ConsentWithdrawn):
        books.verify(subject=alice, purpose=ACCESS, image=faces["obama2"])
    refusal = books.audit_events("refusal")[-1]
    assert refusal.subject_id == alice and refusal.rule == "R4"
    assert books.audit_events("verify") == []


@pytest.mark.both_stores
def test_gallery_indexes_follow_another_deployments_writes(
        books: Deployment, open_deployment: Callable[..., Deployment],
        faces: dict[str, Path]) -> None:
    other = open_deployment()  # the same store, as another process opens it
    assert other.identify(purpose=ACCESS, image=faces["obama2"]).no_match  # index built
    alice = books.register_subject(age_band="adult").id
    consent(books, alice, ACCESS)
    books.enroll(subject=alice, purpose=ACCESS, image=faces["obama"])
    assert other.refresh_galleries() == 1  # the follower's work: off the request path
    assert [c.subject_id for c in other.identify(purpose=ACCESS,
                                                 image=faces["obama2"]).candidates] == [alice]
    books.erase_subject(alice)
    # Identification applies every committed change before it searches, follower or not.
    assert other.identify(purpose=ACCESS, image=faces["obama2"]).no_match
    assert other.refresh_galleries() == 0


@pytest.mark.both_stores
def test_one_process_sweeps_per_interval(books: Deployment,
                                         open_deployment: Callable[..., Deployment]) -> None:
    other = open_deployment()
    swept: list[object] = []

    def sweep(i: int) -> None:
        d = books if i % 2 == 0 else other
        swept.append(d.sweep_if_due(holder=f"process {i}", interval=3600.0))

    assert _in_threads(4, sweep) == []
    assert len([s for s in swept if s is not None]) == 1
    assert books.sweep_if_due(holder="process 0", interval=3600.0) is None
    assert len(books.audit_events("retention-sweep")) == 1
