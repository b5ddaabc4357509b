"""Load on the REST service against the same work in-process: the HTTP and policy overhead.

One run, side by side on the same machine and store:

1. A fresh SQLite deployment with one active verify purpose and one subject
   enrolled from a real face photo (``../shared/data`` samples).
2. In-process: ``Deployment.verify`` on the same probe bytes, one call after
   another, for ``--seconds``: per-request time (p50, p99) and throughput.
3. Over HTTP: ``facegate serve`` in its own process on 127.0.0.1 (uvicorn), and
   ``--concurrency`` client threads each sending ``POST /v1/verify`` (JSON,
   base64 probe, operator key) for ``--seconds``: throughput and p50/p99 latency.
   With one client the latency is directly comparable with the in-process time;
   with several, requests run side by side (as many engine runs at once as the
   machine has cores, the others queue), so throughput is the comparable figure.

Printed: both sets of figures and the overhead as a ratio of in-process time,
``(http - inprocess) / inprocess``, for p50 latency at concurrency 1 and for
time per request from throughput at ``--concurrency``. Target: at most 15%.

Usage::

    python bench/load.py                      # 20 s each, concurrency 1 and 4
    python bench/load.py --seconds 30 --concurrency 8
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from facegate.demo.governed import demo_assessment, demo_notice
from facegate.deployment import Deployment

PURPOSE = "access.office.entry"
ENROLL = "identity/face_recognition/examples/obama.jpg"
PROBE = "identity/face_recognition/examples/obama2.jpg"


def _samples(data: Path) -> Path:
    samples = data / "samples"
    if not (samples / PROBE).is_file():
        sys.exit(f"bench/load.py needs the shared sample photos under {samples}")
    return samples


def _setup(db: Path, samples: Path) -> tuple[str, str]:
    """The deployment: processor, site, purpose, a consenting enrolled subject, a key."""
    with Deployment.open(db, create=True) as d:
        d.register_processor(name={"zh": "基准测试有限公司", "en": "Bench Ltd"},
                             contact={"zh": "dpo@example.com", "en": "dpo@example.com"},
                             credit_code="1")
        d.register_site(key="hq.lobby", name={"zh": "大堂", "en": "Lobby"}, site_type="office")
        d.register_purpose(key=PURPOSE, site="hq.lobby",
                           description={"zh": "门禁", "en": "door access"},
                           necessity={"zh": "基准测试", "en": "bench"},
                           legal_basis={"zh": "单独同意", "en": "separate consent"},
                           modes=["verify"], retention_days=30,
                           alternatives=[{"key": "badge", "name": {"zh": "员工卡", "en": "badge"}}])
        d.publish_notice(purpose=PURPOSE, content=demo_notice())
        d.sign_assessment(purpose=PURPOSE, content=demo_assessment(), signed_by="DPO")
        d.activate_purpose(PURPOSE)
        subject = d.register_subject(age_band="adult").id
        d.record_consent(subject=subject, purpose=PURPOSE, notice_version=1,
                         method="on_screen")
        d.enroll(subject=subject, purpose=PURPOSE, image=(samples / ENROLL).read_bytes())
        key = d.issue_api_key(role="operator", label="bench door").secret
    return subject, key


def _summary(times: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(times)
    return {"requests": len(times), "per_s": len(times) / wall,
            "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def in_process(db: Path, subject: str, probe: bytes, seconds: float) -> dict[str, float]:
    with Deployment.open(db) as d:
        d.verify(subject=subject, purpose=PURPOSE, image=probe)  # load the models
        times: list[float] = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            result = d.verify(subject=subject, purpose=PURPOSE, image=probe)
            times.append(time.perf_counter() - t0)
            assert getattr(result, "matched", False)
        return _summary(times, time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def over_http(base: str, key: str, subject: str, probe: bytes, seconds: float,
              concurrency: int) -> dict[str, float]:
    body = {"subject": subject, "purpose": PURPOSE,
            "image": base64.b64encode(probe).decode()}
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base, timeout=60) as warm:
        warm.post("/v1/verify", json=body, headers=headers).raise_for_status()
    times: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = http.post("/v1/verify", json=body, headers=headers)
                elapsed = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200 and r.json()["matched"]:
                        times.append(elapsed)
                    else:
                        errors.append(r.status_code)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"{len(errors)} requests failed: statuses {sorted(set(errors))}")
    return _summary(times, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    samples = _samples(args.data)
    probe = (samples / PROBE).read_bytes()
    with tempfile.TemporaryDirectory(prefix="facegate-load-") as tmp:
        db = Path(tmp) / "load.db"
        subject, key = _setup(db, samples)
        print(f"probe {PROBE} ({len(probe)} bytes); {args.seconds:g} s per run; "
              f"{os.cpu_count()} CPUs")
        local = in_process(db, subject, probe, args.seconds)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from facegate.cli import main; main()", "serve",
             "--db", str(db), "--port", str(port), "--rate", "1000000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            one = over_http(base, key, subject, probe, args.seconds, 1)
            many = over_http(base, key, subject, probe, args.seconds, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def line(name: str, s: dict[str, float]) -> str:
        return (f"{name:28s} {s['requests']:6.0f} requests  {s['per_s']:7.2f}/s  "
                f"p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms")

    print(line("in-process Deployment.verify", local))
    print(line("HTTP, 1 client", one))
    print(line(f"HTTP, {args.concurrency} clients", many))
    latency = (one["p50_ms"] - local["p50_ms"]) / local["p50_ms"]
    per_request = (1 / many["per_s"] - 1 / local["per_s"]) / (1 / local["per_s"])
    print(f"overhead, p50 latency at 1 client:            {100 * latency:+.1f}% of in-process "
          f"({one['p50_ms'] - local['p50_ms']:+.1f} ms)")
    print(f"overhead, time per request at {args.concurrency} clients:      "
          f"{100 * per_request:+.1f}% of in-process")
    verdict = "met" if max(latency, per_request) <= 0.15 else "NOT met"
    print(f"target (at most 15%): {verdict}")


if __name__ == "__main__":
    main()
