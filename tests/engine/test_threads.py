"""The engine used from several threads at once (a service answers requests side by
side): the same faces and descriptors as one thread alone, and no crash. dlib's HOG
detector keeps working buffers in the object, so each thread gets its own."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from facegate.analysis import FaceAnalyzer
from facegate.engine.dlib_engine import DlibEngine
from facegate.engine.onnx_engine import dlib_available


def test_detection_and_descriptors_from_four_threads(analyzer: FaceAnalyzer,
                                                     faces: dict[str, Path]) -> None:
    images = [faces[n].read_bytes() for n in ("obama", "obama2", "biden", "lennon1")]
    alone = [analyzer.embed_single(i).descriptor for i in images]
    results: dict[int, list[object]] = {i: [] for i in range(4)}
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                results[i].append(analyzer.embed_single(images[i]).descriptor)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for i, found in results.items():
        for d in found:
            assert d is not None and alone[i] is not None
            assert np.allclose(d.vector, alone[i].vector, atol=1e-5)  # type: ignore[attr-defined]


@pytest.mark.skipif(not dlib_available(), reason="dlib is not installed (the [dlib] extra)")
def test_dlib_hog_detector_is_one_per_thread(faces: dict[str, Path]) -> None:
    engine = DlibEngine()
    seen: list[object] = []
    lock = threading.Lock()

    def grab() -> None:
        with lock:
            seen.append(engine._model("hog"))
            seen.append(engine._model("sp5"))

    threads = [threading.Thread(target=grab) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hog_a, sp_a, hog_b, sp_b = seen
    assert hog_a is not hog_b and sp_a is sp_b
