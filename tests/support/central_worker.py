"""A second process on a central (PostgreSQL) store, for ``tests/deployment/test_central.py``.

Run as ``python -m tests.support.central_worker COMMAND URL KEYS [ARGS...]``:

- ``subjects N``: register N subjects, one audited call each, as fast as it can;
- ``erase SUBJECT``: erase the subject (R23).

It opens its own :class:`~facegate.deployment.Deployment` (its own connection)
and never runs the engine, so it starts quickly. It prints ``ok`` when done.
"""

from __future__ import annotations

import sys

from facegate.deployment import Deployment


def main(argv: list[str]) -> int:
    """Run one command; the exit status is 0 when it succeeded."""
    command, url, keys, *args = argv
    with Deployment.open(url, keys=keys) as d:
        if command == "subjects":
            for _ in range(int(args[0])):
                d.register_subject(age_band="adult")
        elif command == "erase":
            d.erase_subject(args[0])
        else:
            sys.stderr.write(f"unknown command {command}\n")
            return 2
    sys.stdout.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
