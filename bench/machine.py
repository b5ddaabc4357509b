"""The machine a bench runs on, as every bench's report names it."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_line() -> str:
    """The CPU model and its vector units (from /proc/cpuinfo), and the load now."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", "unknown CPU", "x86_64"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    units = [u for u in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
             if u in flags] or ["(none reported)"]
    return (f"{model}; {os.cpu_count()} CPUs; vector units: {' '.join(units)}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
