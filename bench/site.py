"""A simulated site against a real ``facegate serve``: many doors at once, several processes.

One run, on one SQLite store, over loopback:

1. Set-up: a processor, a lobby, the purpose ``access.office.entry`` (verify and
   identify, calibrated on the sample staff photos, R21), door subjects enrolled
   from the shared sample photos, keys for the doors, the kiosk and the admin.
2. Two services on the same store at once: ``facegate serve --workers 1`` and
   ``facegate serve --workers 2``. Every comparison below alternates its sides
   round by round (``--rounds`` rounds of ``--seconds`` each side), so the load
   other work puts on the machine falls on both sides alike.
3. **Site mix**, per service: ``--doors`` verify clients (one subject each), one
   identify client, one kiosk enrolling new subjects (subject, consent, enroll with
   an ``Idempotency-Key``) and one admin rendering the Chinese impact assessment as
   PDF, all at once: throughput and p50/p95 per operation.
4. **Verify throughput** (every client verifies the same subject with the same probe): 1
   worker with one request at a time, against 2 workers with two clients (and 1 worker
   with two clients, which shows what threads alone give now that the process has no
   lock). Goal: 2 workers >= 1.6x.
5. **Verify while PDFs render** (1 worker, two verify clients): alone, against with an
   admin rendering PDFs all the while. Goal: p95 with PDFs <= 1.3x p95 alone.
6. **Erasure across processes**: a subject enrolled through one service, erased through
   it, and identified through the other right after each step.
7. **Audit**: the services stop; every successful request must have exactly its audit
   entries (none lost, none twice), the chain must verify, and no request may fail.

Prints the CPU and its vector units, the machine's load, each table and each goal
with "met" or "NOT met".

Usage::

    python bench/site.py                       # 3 rounds of 15 s per side
    python bench/site.py --rounds 5 --seconds 20 --doors 4
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from facegate.demo.governed import STAFF, demo_assessment, demo_notice, staff_photos
from facegate.deployment import Deployment
from machine import cpu_line  # bench/machine.py, beside this script

PURPOSE = "access.office.entry"


# -- the machine -------------------------------------------------------------------------


def group_cpu(pgid: int) -> float:
    """CPU seconds (user and system) used so far by the live processes of a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / tick, sum(values) / tick


# -- set-up ------------------------------------------------------------------------------

@dataclass
class Site:
    db: Path
    keys: dict[str, str]
    doors: list[tuple[str, bytes]]          # (subject, probe image)
    enroll_photo: bytes
    identify_probe: bytes
    people: Path
    baseline: Counter[str]                  # audit entries written at set-up


def set_up(root: Path, samples: Path, doors: int) -> Site:
    db = root / "site.db"
    people = staff_photos(samples, root / "staff")
    folders = sorted(p for p in people.iterdir() if len(list(p.iterdir())) >= 2)
    with Deployment.open(db, create=True) as d:
        d.register_processor(name={"zh": "基准测试有限公司", "en": "Bench Ltd"},
                             contact={"zh": "dpo@example.com", "en": "dpo@example.com"},
                             credit_code="1")
        d.register_site(key="hq.lobby", name={"zh": "大堂", "en": "Lobby"}, site_type="office")
        d.register_purpose(key=PURPOSE, site="hq.lobby",
                           description={"zh": "门禁", "en": "door access"},
                           necessity={"zh": "基准测试", "en": "bench"},
                           legal_basis={"zh": "单独同意", "en": "separate consent"},
                           modes=["verify", "identify"],
                           alternatives=[{"key": "badge", "name": {"zh": "员工卡", "en": "badge"}}],
                           retention_days=30)
        d.publish_notice(purpose=PURPOSE, content=demo_notice())
        d.sign_assessment(purpose=PURPOSE, content=demo_assessment(), signed_by="DPO")
        d.calibrate_purpose(purpose=PURPOSE, data=people, population=STAFF, target_fmr=1e-2)
        d.activate_purpose(PURPOSE)
        enrolled: list[tuple[str, bytes]] = []
        for folder in folders:
            if len(enrolled) == doors:
                break
            first, second = sorted(folder.iterdir())[:2]
            subject = d.register_subject(age_band="adult").id
            d.record_consent(subject=subject, purpose=PURPOSE, notice_version=1,
                             method="on_screen")
            try:
                d.enroll(subject=subject, purpose=PURPOSE, image=first.read_bytes())
            except Exception:  # a photo that does not enroll (several faces, quality)
                continue
            enrolled.append((subject, second.read_bytes()))
        keys = {f"door{i}": d.issue_api_key(role="operator", label=f"door {i}",
                                            purposes=[PURPOSE]).secret
                for i in range(len(enrolled))}
        keys["identify"] = d.issue_api_key(role="operator", label="gate camera").secret
        keys["kiosk"] = d.issue_api_key(role="operator", label="kiosk").secret
        keys["admin"] = d.issue_api_key(role="admin", label="admin").secret
        baseline = Counter(e.name for e in d.audit_events())
    if len(enrolled) < doors:
        sys.exit(f"only {len(enrolled)} door subjects could be enrolled from {samples}")
    return Site(db=db, keys=keys, doors=enrolled, enroll_photo=enrolled[0][1],
                identify_probe=enrolled[0][1], people=people, baseline=baseline)


# -- the services ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """``facegate serve`` in its own process group."""

    def __init__(self, db: Path, workers: int) -> None:
        self.workers = workers
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = db.with_name(f"serve-{workers}.log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
                 "--db", str(db), "--port", str(self.port), "--workers", str(workers),
                 "--rate", "1000000", "--sweep-interval", "0"],
                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)

    def tail(self) -> str:
        """The end of the service's log, without the request lines."""
        lines = [line for line in self.log.read_text(errors="replace").splitlines()
                 if '"event": "request"' not in line]
        return "\n".join(lines[-30:])

    def wait_ready(self) -> None:
        for _ in range(1200):
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        sys.exit(f"the {self.workers}-worker service did not become ready:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            print(f"the {self.workers}-worker service had stopped by itself:\n{self.tail()}")
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


# -- the clients -------------------------------------------------------------------------

@dataclass
class Tally:
    """Latencies per operation, errors, and successes (to check against the audit log)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    #: CPU seconds the service's processes, this bench's clients and the whole machine used
    service_cpu: float = 0.0
    client_cpu: float = 0.0
    machine_cpu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, op: str, seconds: float) -> None:
        with self.lock:
            self.times[op].append(seconds)

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def merge(self, other: Tally) -> None:
        for op, values in other.times.items():
            self.times[op] += values
        self.errors += other.errors
        self.wall += other.wall
        self.service_cpu += other.service_cpu
        self.client_cpu += other.client_cpu
        self.machine_cpu += other.machine_cpu


#: Successful requests over the whole run, by the audit entry each must leave.
SUCCESSES: Counter[str] = Counter()
_SUCCESS_LOCK = threading.Lock()


def _succeeded(entry: str, n: int = 1) -> None:
    with _SUCCESS_LOCK:
        SUCCESSES[entry] += n


def _b64(image: bytes) -> str:
    return base64.b64encode(image).decode()


def door(site: Site, base: str, i: int, tally: Tally, stop: float) -> None:
    subject, probe = site.doors[i % len(site.doors)]
    body = {"subject": subject, "purpose": PURPOSE, "image": _b64(probe)}
    headers = {"X-API-Key": site.keys[f"door{i % len(site.doors)}"]}
    with httpx.Client(base_url=base, timeout=120) as http:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = http.post("/v1/verify", json=body, headers=headers)
            if r.status_code == 200 and r.json()["matched"]:
                tally.add("verify", time.perf_counter() - t0)
                _succeeded("verify")
            else:
                tally.fail(f"verify {r.status_code}")


def gate_camera(site: Site, base: str, tally: Tally, stop: float) -> None:
    body = {"purpose": PURPOSE, "image": _b64(site.identify_probe)}
    headers = {"X-API-Key": site.keys["identify"]}
    with httpx.Client(base_url=base, timeout=120) as http:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = http.post("/v1/identify", json=body, headers=headers)
            if r.status_code == 200 and not r.json()["no_match"]:
                tally.add("identify", time.perf_counter() - t0)
                _succeeded("identify")
            else:
                tally.fail(f"identify {r.status_code}")


def kiosk(site: Site, base: str, tally: Tally, stop: float) -> None:
    headers = {"X-API-Key": site.keys["kiosk"]}
    image = _b64(site.enroll_photo)
    with httpx.Client(base_url=base, timeout=120, headers=headers) as http:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = http.post("/v1/subjects", json={"age_band": "adult"})
            if r.status_code != 201:
                tally.fail(f"subject {r.status_code}")
                continue
            _succeeded("subject-registered")
            subject = r.json()["subject"]["id"]
            r = http.post("/v1/consents", json={"subject": subject, "purpose": PURPOSE,
                                                "notice_version": 1})
            if r.status_code != 201:
                tally.fail(f"consent {r.status_code}")
                continue
            _succeeded("consent-granted")
            _succeeded("api-key-issued")
            r = http.post("/v1/enroll", json={"subject": subject, "purpose": PURPOSE,
                                              "image": image},
                          headers={"Idempotency-Key": uuid.uuid4().hex})
            if r.status_code == 201:
                tally.add("kiosk visit", time.perf_counter() - t0)
                _succeeded("enroll")
            else:
                tally.fail(f"enroll {r.status_code}")


def admin(site: Site, base: str, tally: Tally, stop: float) -> None:
    headers = {"X-API-Key": site.keys["admin"]}
    with httpx.Client(base_url=base, timeout=600, headers=headers) as http:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = http.get("/v1/reports/pia", params={"purpose": PURPOSE, "lang": "zh",
                                                    "format": "pdf"})
            if r.status_code == 200 and r.content.startswith(b"%PDF"):
                tally.add("pia pdf (zh)", time.perf_counter() - t0)
                _succeeded("report-generated")
            else:
                tally.fail(f"report {r.status_code}")


def drive(clients: list[Callable[[float], None]], seconds: float) -> float:
    """Run every client until ``seconds`` have passed (each finishes its request in flight);
    returns the wall time."""
    stop = time.perf_counter() + seconds
    start = time.perf_counter()
    threads = [threading.Thread(target=c, args=(stop,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def site_mix(site: Site, base: str, doors: int, seconds: float) -> Tally:
    tally = Tally()
    clients: list[Callable[[float], None]] = [
        (lambda stop, i=i: door(site, base, i, tally, stop)) for i in range(doors)]
    clients += [lambda stop: gate_camera(site, base, tally, stop),
                lambda stop: kiosk(site, base, tally, stop),
                lambda stop: admin(site, base, tally, stop)]
    tally.wall = drive(clients, seconds)
    return tally


def verifiers(site: Site, service: Service, n: int, seconds: float, *,
              with_pdfs: bool = False) -> Tally:
    """``n`` clients verifying the first door's subject with the same probe (so that every
    side of a comparison does the same work), and optionally an admin rendering PDFs; with
    the CPU the service and the whole machine used meanwhile."""
    tally = Tally()
    base = service.base
    clients: list[Callable[[float], None]] = [
        (lambda stop: door(site, base, 0, tally, stop)) for _ in range(n)]
    if with_pdfs:
        clients.append(lambda stop: admin(site, base, tally, stop))
    cpu, mine, (busy, _) = group_cpu(service.process.pid), time.process_time(), machine_busy()
    tally.wall = drive(clients, seconds)
    tally.service_cpu = group_cpu(service.process.pid) - cpu
    tally.client_cpu = time.process_time() - mine
    tally.machine_cpu = machine_busy()[0] - busy
    return tally


# -- reporting ---------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(title: str, tallies: dict[str, Tally]) -> None:
    print(f"\n{title}")
    print(f"  {'side':26s} {'operation':14s} {'requests':>8s} {'per s':>7s} {'p50 ms':>8s} "
          f"{'p95 ms':>8s}")
    for side, t in tallies.items():
        for op in sorted(t.times):
            v = t.times[op]
            print(f"  {side:26s} {op:14s} {len(v):8d} {len(v) / t.wall:7.2f} "
                  f"{1000 * statistics.median(v):8.0f} {1000 * pct(v, 0.95):8.0f}")
        if t.errors:
            print(f"  {side:26s} errors: {Counter(t.errors).most_common()}")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- erasure across processes ---------------------------------------------------------------

def erasure_across(site: Site, one: str, other: str, trials: int) -> tuple[int, int]:
    """Enroll through ``one``, identify through ``other`` at once (found?); erase through
    ``one``, identify through ``other`` at once (gone?). Returns (found, gone) counts."""
    found = gone = 0
    kiosk_key = {"X-API-Key": site.keys["kiosk"]}
    admin_key = {"X-API-Key": site.keys["admin"]}
    probe = {"purpose": PURPOSE, "image": _b64(site.doors[-1][1])}
    with httpx.Client(base_url=one, timeout=120) as a, \
            httpx.Client(base_url=other, timeout=120) as b:
        # The last door subject's second photo is the probe; enroll a new subject from the
        # same person's first photo each trial.
        first = sorted(sorted(p for p in site.people.iterdir()
                              if len(list(p.iterdir())) >= 2)[len(site.doors) - 1].iterdir())[0]
        for _ in range(trials):
            subject = a.post("/v1/subjects", json={"age_band": "adult"},
                             headers=kiosk_key).json()["subject"]["id"]
            a.post("/v1/consents", json={"subject": subject, "purpose": PURPOSE,
                                         "notice_version": 1}, headers=kiosk_key)
            r = a.post("/v1/enroll", json={"subject": subject, "purpose": PURPOSE,
                                           "image": _b64(first.read_bytes())},
                       headers=kiosk_key)
            assert r.status_code == 201, r.text
            _succeeded("subject-registered")
            _succeeded("consent-granted")
            _succeeded("api-key-issued")
            _succeeded("enroll")
            hit = b.post("/v1/identify", json=probe, headers=kiosk_key).json()
            _succeeded("identify")
            found += any(c["subject"] == subject for f in hit["faces"] for c in f["candidates"])
            assert a.delete(f"/v1/subjects/{subject}", headers=admin_key).status_code == 200
            _succeeded("subject-erased")
            hit = b.post("/v1/identify", json=probe, headers=kiosk_key).json()
            _succeeded("identify")
            gone += not any(c["subject"] == subject for f in hit["faces"]
                            for c in f["candidates"])
    return found, gone


# -- the run -----------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--doors", type=int, default=4)
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (the store, the services' logs)")
    args = parser.parse_args()
    samples = args.data / "samples"
    if not (samples / "labels.csv").is_file():
        sys.exit(f"bench/site.py needs the shared sample photos under {samples}")
    print(cpu_line())
    with tempfile.TemporaryDirectory(prefix="facegate-site-") as scratch:
        tmp = str(args.keep) if args.keep else scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        site = set_up(Path(tmp), samples, args.doors)
        print(f"set-up: {len(site.doors)} door subjects enrolled, purpose calibrated "
              f"({time.perf_counter() - started:.0f} s)")
        one = Service(site.db, 1)
        one.wait_ready()
        two = Service(site.db, 2)
        try:
            two.wait_ready()
            for s in (one, two):  # load the models in every worker before timing anything
                verifiers(site, s, 2 * s.workers, 3.0)
            run(site, one, two, args)
        finally:
            for s in (one, two):
                s.stop()
        audit(site)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def run(site: Site, one: Service, two: Service, args: argparse.Namespace) -> None:
    sec, rounds = args.seconds, args.rounds
    mix = {"1 worker": Tally(), "2 workers": Tally()}
    throughput = {"1 worker, 1 client": Tally(), "2 workers, 2 clients": Tally(),
                  "1 worker, 2 clients": Tally()}
    pdfs = {"verify alone": Tally(), "verify while PDFs render": Tally()}
    for r in range(rounds):
        order = [(one, "1 worker"), (two, "2 workers")]
        for s, name in order if r % 2 == 0 else order[::-1]:
            mix[name].merge(site_mix(site, s.base, args.doors, sec))
        sides: list[tuple[str, Callable[[], Tally]]] = [
            ("1 worker, 1 client", lambda: verifiers(site, one, 1, sec)),
            ("2 workers, 2 clients", lambda: verifiers(site, two, 2, sec)),
            ("1 worker, 2 clients", lambda: verifiers(site, one, 2, sec))]
        for name, go in sides if r % 2 == 0 else sides[::-1]:
            throughput[name].merge(go())
        paired: list[tuple[str, Callable[[], Tally]]] = [
            ("verify alone", lambda: verifiers(site, one, 2, sec)),
            ("verify while PDFs render", lambda: verifiers(site, one, 2, sec,
                                                           with_pdfs=True))]
        for name, go in paired if r % 2 == 0 else paired[::-1]:
            pdfs[name].merge(go())
        print(f"round {r + 1}/{rounds} done; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table(f"site mix: {args.doors} doors verifying, 1 gate camera identifying, 1 kiosk "
          f"enrolling, 1 admin rendering PDFs ({rounds} x {sec:g} s per side)", mix)
    table("verify throughput", throughput)
    base = len(throughput["1 worker, 1 client"].times["verify"]) / throughput[
        "1 worker, 1 client"].wall
    for name in ("2 workers, 2 clients", "1 worker, 2 clients"):
        t = throughput[name]
        print(f"  {name}: {len(t.times['verify']) / t.wall / base:.2f}x the verify throughput "
              "of 1 worker with one request at a time")
    ratio = (len(throughput["2 workers, 2 clients"].times["verify"])
             / throughput["2 workers, 2 clients"].wall / base)
    print(f"  goal (2 workers >= 1.6x): {verdict(ratio >= 1.6)}")
    print("  where the time goes (CPU seconds over wall seconds, on this 2-CPU machine):")
    for name, t in throughput.items():
        n = len(t.times["verify"])
        others = t.machine_cpu - t.service_cpu - t.client_cpu
        print(f"    {name:22s} the service used {t.service_cpu / t.wall:4.2f} CPUs "
              f"({t.service_cpu / max(n, 1) * 1000:3.0f} ms of CPU per verify), the clients "
              f"{t.client_cpu / t.wall:4.2f}, other programs {others / t.wall:4.2f}: the "
              f"machine was busy {t.machine_cpu / t.wall:4.2f} of {os.cpu_count()} CPUs")
    one_t, two_t = throughput["1 worker, 1 client"], throughput["2 workers, 2 clients"]
    print(f"  the CPU the 2-worker service got / the 1-worker service with one request at a "
          f"time: {two_t.service_cpu / two_t.wall / (one_t.service_cpu / one_t.wall):.2f}x "
          "(verify throughput follows it: the CPU per verify stays the same)")
    table("verify p95 alone against verify while PDFs render (1 worker, 2 verify clients)",
          pdfs)
    alone = pct(pdfs["verify alone"].times["verify"], 0.95)
    busy = pct(pdfs["verify while PDFs render"].times["verify"], 0.95)
    print(f"  verify p95 while PDFs render / alone: {busy / alone:.2f}x "
          f"(goal <= 1.3x: {verdict(busy / alone <= 1.3)})")
    found, gone = erasure_across(site, one.base, two.base, 5)
    print(f"\nacross processes: enrolled through the 1-worker service, found at once by "
          f"identify through the 2-worker service {found}/5; erased, gone at once {gone}/5")
    errors = sum(len(t.errors) for group in (mix, throughput, pdfs) for t in group.values())
    print(f"errors: {errors} (goal 0: {verdict(errors == 0)})")


def audit(site: Site) -> None:
    with Deployment.open(site.db) as d:
        report = d.verify_audit()
        names = Counter(e.name for e in d.audit_events())
    print(f"\naudit log: {report.entries} entries, chain verified (head {report.head[:16]}...)")
    wrong = []
    for name in ("verify", "identify", "enroll", "report-generated", "subject-registered",
                 "consent-granted", "api-key-issued", "subject-erased"):
        written = names[name] - site.baseline[name]
        if written != SUCCESSES[name]:
            wrong.append(f"{name}: {written} entries for {SUCCESSES[name]} successes")
        print(f"  {name:20s} entries written during the run {written:6d}, "
              f"successful requests {SUCCESSES[name]:6d}")
    refusals = names["refusal"] - site.baseline["refusal"]
    print(f"  refusals: {refusals}")
    print(f"lost or duplicated audit entries: {len(wrong)} "
          f"(goal 0: {verdict(not wrong and refusals == 0)}) {'; '.join(wrong)}")


if __name__ == "__main__":
    main()
