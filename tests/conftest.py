"""Shared fixtures: the shared sample photos, one real engine per session, fresh stores.

Real faces come from ``../shared/data`` (or ``$FACEGATE_DATA``); tests that
need them skip with the reason when the folder is absent. The dlib engine
loads once per session; every governed test gets its own SQLite file in
``tmp_path`` and a :class:`~facegate.clock.FixedClock`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.engine.base import Engine
from facegate.engine.default import engine_for_pack
from facegate.engine.packs import DEFAULT_PACK

from .support.data import shared_data_dir
from .support.governed import START, add_purpose
from .support.postgres import PostgresServer, start_server, unavailable
from .support.words import both

REPO = Path(__file__).resolve().parents[1]
NO_DATA = "../shared/data (labelled sample faces) is not present beside the repo; set FACEGATE_DATA"

FACES = {
    "obama": "identity/face_recognition/examples/obama.jpg",
    "obama2": "identity/face_recognition/examples/obama2.jpg",
    "biden": "identity/face_recognition/examples/biden.jpg",
    "lennon1": "identity/openface/images/examples/lennon-1.jpg",
    "lennon2": "identity/openface/images/examples/lennon-2.jpg",
}


def shared_samples() -> Path | None:
    """``samples/`` of the shared data, or ``None`` when absent."""
    root = shared_data_dir()
    if root is None:
        return None
    samples = root / "samples"
    return samples if all((samples / p).is_file() for p in FACES.values()) else None


SHARED = shared_data_dir()


@pytest.fixture(scope="session")
def shared() -> Path:
    if SHARED is None:
        pytest.skip(NO_DATA)
    return SHARED


@pytest.fixture(scope="session")
def samples(shared: Path) -> Path:
    return shared / "samples"


@pytest.fixture(scope="session")
def sample_labels(samples: Path) -> list[dict[str, str]]:
    with (samples / "labels.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def faces() -> dict[str, Path]:
    """Paths of the real face photos; skips when the shared data is absent."""
    samples = shared_samples()
    if samples is None:
        pytest.skip(NO_DATA)
    return {name: samples / rel for name, rel in FACES.items()}


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The dlib pack's engine (ONNX), once for the whole session; models load on first use.

    Pinned to ``dlib-resnet-v1``, which is always installed: the library's default is
    the best-measured installed pack (the ArcFace pack where it is installed), and the
    tests that use this fixture pin dlib's figures. Tests of the default say so.
    """
    return engine_for_pack(DEFAULT_PACK)


@pytest.fixture(scope="session")
def analyzer(engine: Engine) -> FaceAnalyzer:
    """One real analyzer for the whole session."""
    return FaceAnalyzer(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_stores`` run once on SQLite and once on PostgreSQL."""
    if ("store_backend" in metafunc.fixturenames
            and metafunc.definition.get_closest_marker("both_stores") is not None):
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for the session; skips with the reason when there
    is none to start (see :mod:`tests.support.postgres`)."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """Where :func:`open_deployment` keeps its stores: ``sqlite`` unless a test marked
    ``both_stores`` is parametrized with ``postgresql``."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def open_deployment(tmp_path: Path, clock: FixedClock, analyzer: FaceAnalyzer,
                    store_backend: str,
                    request: pytest.FixtureRequest) -> Iterator[Callable[..., Deployment]]:
    """Open deployments in ``tmp_path`` sharing the session analyzer; closed after the test.

    On the ``postgresql`` backend each name is a fresh database of the session's
    server, and its key file is ``tmp_path / name + ".keys"`` as beside an SQLite file.
    """
    opened: list[Deployment] = []
    server: PostgresServer | None = None
    if store_backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
    urls: dict[str, str] = {}

    def factory(name: str = "facegate.db", **kwargs: object) -> Deployment:
        kwargs.setdefault("analyzer", analyzer)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("create", True)  # a fresh store the first time, the same after
        target: str | Path = tmp_path / name
        if server is not None:
            if name not in urls:
                urls[name] = server.create_database()
            target = urls[name]
            kwargs.setdefault("keys", tmp_path / f"{name}.keys")
        d = Deployment.open(target, **kwargs)  # type: ignore[arg-type]
        opened.append(d)
        return d

    yield factory
    for d in opened:
        d.close()


@pytest.fixture
def books(open_deployment: Callable[..., Deployment]) -> Deployment:
    """A deployment with processor, an office site and two active purposes."""
    d = open_deployment()
    d.register_processor(name=both("Example Ltd"), contact=both("dpo@example.com"),
                         credit_code="91310000EXAMPLE00X", province=both("Shanghai"),
                         security_measures=both("device storage, access control"))
    d.register_site(key="hq.lobby", name=both("Lobby"), site_type="office")
    add_purpose(d, "access.office.entry")
    add_purpose(d, "hr.attendance", modes=("verify",))
    return d
