"""Enroll real faces in a loop until killed: the child of the SIGKILL crash-safety test.

Usage: ``python -m tests.support.bulk_enroll DB PURPOSE SUBJECTS_JSON IMAGE...``. Prints
``ready`` once the face engine is warm, then enrolls round-robin (every third
enrollment keeps its image, sealed) until the parent kills it, printing
``start N`` and ``done N`` around each enrollment.
"""

from __future__ import annotations

import itertools
import json
import sys

from facegate.deployment import Deployment


def main(argv: list[str]) -> None:
    db, purpose, subjects, images = argv[0], argv[1], json.loads(argv[2]), argv[3:]
    with Deployment.open(db) as d:
        d.analyzer.embed_single(images[0])
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        for i in itertools.count():
            sys.stdout.write(f"start {i}\n")
            sys.stdout.flush()
            d.enroll(subject=subjects[i % len(subjects)], purpose=purpose,
                     image=images[i % len(images)], retain_image=i % 3 == 0)
            sys.stdout.write(f"done {i}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
