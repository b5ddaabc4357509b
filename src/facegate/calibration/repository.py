"""SQL for calibrations. Keyword-only; the caller owns the transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..clock import parse_time
from ..storage.connection import Connection
from .models import Calibration

__all__ = ["get_calibration", "insert_calibration", "list_calibrations"]

_COLUMNS = ("id, purpose_key, pack, pack_version, population, lfw_derived, dataset, fingerprint, "
            "target_fmr, threshold, genuine_pairs, impostor_pairs, impostor_distances, report, "
            "recorded_by, recorded_at")


def insert_calibration(conn: Connection, *, purpose_key: str, pack: str,
                       pack_version: str, population: str, lfw_derived: bool, dataset: str,
                       fingerprint: str, target_fmr: float, threshold: float,
                       genuine_pairs: int, impostor_pairs: int,
                       impostor_distances: Sequence[float], report: Mapping[str, Any],
                       recorded_by: str, recorded_at: datetime) -> Calibration:
    cur = conn.execute(
        f"INSERT INTO calibrations ({_COLUMNS.split(', ', 1)[1]}) "
        f"VALUES ({', '.join('?' * 15)}) RETURNING id",
        (purpose_key, pack, pack_version, population, int(lfw_derived), dataset, fingerprint,
         target_fmr, threshold, genuine_pairs, impostor_pairs,
         json.dumps([round(d, 6) for d in sorted(impostor_distances)]),
         json.dumps(dict(report), sort_keys=True), recorded_by, recorded_at.isoformat()))
    found = get_calibration(conn, id=int(cur.fetchone()[0]))
    assert found is not None
    return found


def _calibration(r: tuple[Any, ...]) -> Calibration:
    return Calibration(
        id=int(r[0]), purpose_key=str(r[1]), pack=str(r[2]), pack_version=str(r[3]),
        population=str(r[4]), lfw_derived=bool(r[5]), dataset=str(r[6]), fingerprint=str(r[7]),
        target_fmr=float(r[8]), threshold=float(r[9]), genuine_pairs=int(r[10]),
        impostor_pairs=int(r[11]), impostor_distances=tuple(json.loads(r[12])),
        report=json.loads(r[13]), recorded_by=str(r[14]), recorded_at=parse_time(str(r[15])))


def get_calibration(conn: Connection, *, id: int) -> Calibration | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM calibrations WHERE id = ?", (id,)).fetchone()
    return None if row is None else _calibration(row)


def list_calibrations(conn: Connection, *, purpose_key: str) -> list[Calibration]:
    return [_calibration(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM calibrations WHERE purpose_key = ? ORDER BY id", (purpose_key,))]
