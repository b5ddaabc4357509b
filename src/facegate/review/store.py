"""SQL for review settings, reviewers, identification sessions, cases and sealed probes.

Keyword-only; the caller owns the transaction. The probe image a review
needs is re-encoded as PNG (no metadata survives) and sealed with AES-256-GCM
under a fresh data key of its own, which is kept only wrapped by the
key-encryption key; associated data binds it to its session. Deleting the row
(secure_delete) erases both.
"""

from __future__ import annotations

import io
import json
import secrets
from datetime import datetime

from PIL import Image as PILImage

from ..clock import parse_time
from ..crypto.envelope import associated_data, new_key, open_sealed, seal
from ..crypto.keyring import KeyRing
from ..images import Image
from ..storage.connection import Connection
from ..storage.db import period_sql
from .models import CaseStatus, ReviewCase, ReviewDecision, ReviewSettings, Verdict

__all__ = [
    "authorise_reviewer",
    "close_session",
    "count_cases",
    "delete_probe",
    "delete_subject_cases",
    "expire_due",
    "get_case",
    "get_settings",
    "insert_case",
    "insert_decision",
    "is_reviewer",
    "list_cases",
    "list_reviewers",
    "list_subject_cases",
    "open_probe",
    "own_people",
    "probe_kek_ids",
    "put_settings",
    "reference_image",
    "revoke_reviewer",
    "rewrap_probe_keys",
    "seal_probe",
    "session_open_cases",
    "session_reviewers",
    "set_status",
    "start_session",
]

_MEDIA = "image/png"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


# -- settings and reviewers -----------------------------------------------------------

def put_settings(conn: Connection, *, settings: ReviewSettings) -> None:
    conn.execute("INSERT INTO review_settings (purpose_key, window_seconds, configured_by, "
                 "configured_at, reviewers, bar_own) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                 "(purpose_key) DO UPDATE SET window_seconds = excluded.window_seconds, "
                 "configured_by = excluded.configured_by, configured_at = "
                 "excluded.configured_at, reviewers = excluded.reviewers, "
                 "bar_own = excluded.bar_own",
                 (settings.purpose_key, settings.window_seconds, settings.configured_by,
                  settings.configured_at.isoformat(), settings.reviewers,
                  int(settings.bar_own)))


def get_settings(conn: Connection, *, purpose_key: str) -> ReviewSettings | None:
    row = conn.execute("SELECT window_seconds, configured_by, configured_at, reviewers, "
                       "bar_own FROM "
                       "review_settings WHERE purpose_key = ?", (purpose_key,)).fetchone()
    if row is None:
        return None
    return ReviewSettings(purpose_key=purpose_key, window_seconds=int(row[0]),
                          configured_by=str(row[1]), configured_at=parse_time(str(row[2])),
                          reviewers=None if row[3] is None else int(row[3]),
                          bar_own=bool(row[4]))


def own_people(conn: Connection, *, purpose_key: str, session_id: str) -> dict[str, str]:
    """Who registered the purpose (its ``purpose-registered`` audit entry, which the chain
    and row tags protect) and who ran the identification session: principal to why."""
    people: dict[str, str] = {}
    row = conn.execute("SELECT operator FROM identification_sessions WHERE id = ?",
                       (session_id,)).fetchone()
    if row is not None:
        people[str(row[0])] = "ran the identification"
    for (operator,) in conn.execute("SELECT operator FROM audit_events WHERE name = "
                                    "'purpose-registered' AND purpose_key = ?",
                                    (purpose_key,)):
        people[str(operator)] = "registered the purpose"
    return people


def authorise_reviewer(conn: Connection, *, purpose_key: str, reviewer: str,
                       authorised_by: str, at: datetime) -> None:
    conn.execute("INSERT INTO reviewers (purpose_key, reviewer, authorised_by, authorised_at) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (purpose_key, reviewer) DO UPDATE SET "
                 "authorised_by = excluded.authorised_by, authorised_at = "
                 "excluded.authorised_at, revoked_at = NULL",
                 (purpose_key, reviewer, authorised_by, at.isoformat()))


def revoke_reviewer(conn: Connection, *, purpose_key: str, reviewer: str,
                    at: datetime) -> int:
    return conn.execute("UPDATE reviewers SET revoked_at = ? WHERE purpose_key = ? AND "
                        "reviewer = ? AND revoked_at IS NULL",
                        (at.isoformat(), purpose_key, reviewer)).rowcount


def list_reviewers(conn: Connection, *, purpose_key: str) -> list[str]:
    """The reviewers authorised for ``purpose_key`` now."""
    return [str(r[0]) for r in conn.execute(
        "SELECT reviewer FROM reviewers WHERE purpose_key = ? AND revoked_at IS NULL "
        "ORDER BY reviewer", (purpose_key,))]


def count_cases(conn: Connection, *, since: datetime | None,
                until: datetime | None) -> dict[str, int]:
    """Review cases opened in a period, by status (both ends inclusive, ``None`` open)."""
    period, args = period_sql("created_at", since, until)
    sql = "SELECT status, count(*) FROM review_cases WHERE 1 = 1" + period
    return {str(s): int(n) for s, n in conn.execute(sql + " GROUP BY status", args)}


def is_reviewer(conn: Connection, *, purpose_key: str, reviewer: str) -> bool:
    return conn.execute("SELECT 1 FROM reviewers WHERE purpose_key = ? AND reviewer = ? AND "
                        "revoked_at IS NULL", (purpose_key, reviewer)).fetchone() is not None


# -- sessions -----------------------------------------------------------------------

def start_session(conn: Connection, *, purpose_key: str, gallery: str, operator: str,
                  faces: int, hits: int, at: datetime) -> tuple[str, str]:
    """Record an identification session; returns its id and the probe reference."""
    session, probe = new_id("ses"), new_id("prb")
    conn.execute("INSERT INTO identification_sessions (id, purpose_key, gallery, probe_ref, "
                 "operator, faces, hits, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (session, purpose_key, gallery, probe, operator, faces, hits, at.isoformat()))
    return session, probe


def close_session(conn: Connection, *, session_id: str,
                  at: datetime) -> dict[str, object] | None:
    """Mark the session ended; returns its facts (``None`` when it had already ended)."""
    row = conn.execute("SELECT purpose_key, gallery, probe_ref, operator, started_at FROM "
                       "identification_sessions WHERE id = ? AND ended_at IS NULL",
                       (session_id,)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE identification_sessions SET ended_at = ? WHERE id = ?",
                 (at.isoformat(), session_id))
    return {"session": session_id, "purpose": str(row[0]), "gallery": str(row[1]),
            "probe": str(row[2]), "operator": str(row[3]), "started_at": str(row[4]),
            "ended_at": at.isoformat()}


def session_open_cases(conn: Connection, *, session_id: str) -> int:
    return int(conn.execute("SELECT count(*) FROM review_cases WHERE session_id = ? AND "
                            "status = ?", (session_id, CaseStatus.PENDING.value)).fetchone()[0])


def session_reviewers(conn: Connection, *, session_id: str) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT d.reviewer FROM review_decisions d JOIN review_cases c ON "
        "c.id = d.case_id WHERE c.session_id = ? ORDER BY d.reviewer", (session_id,))]


# -- cases --------------------------------------------------------------------------

_CASE = ("id, session_id, purpose_key, face, subject_id, distance, status, reviewers_required, "
         "created_at, deadline, decided_at, face_box")


def insert_case(conn: Connection, *, session_id: str, purpose_key: str, face: int,
                subject_id: str, distance: float, reviewers_required: int, at: datetime,
                deadline: datetime, face_box: tuple[int, int, int, int] | None = None) -> str:
    case = new_id("case")
    conn.execute(f"INSERT INTO review_cases ({_CASE}) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                 (case, session_id, purpose_key, face, subject_id, distance,
                  CaseStatus.PENDING.value, reviewers_required, at.isoformat(),
                  deadline.isoformat(), None if face_box is None else json.dumps(face_box)))
    return case


def _decisions(conn: Connection, case_id: str) -> tuple[ReviewDecision, ...]:
    return tuple(ReviewDecision(reviewer=str(r[0]), verdict=Verdict(str(r[1])),
                                reason=str(r[2]), at=parse_time(str(r[3])))
                 for r in conn.execute("SELECT reviewer, verdict, reason, decided_at FROM "
                                       "review_decisions WHERE case_id = ? ORDER BY decided_at, "
                                       "reviewer", (case_id,)))


def _case(conn: Connection, r: tuple[object, ...]) -> ReviewCase:
    return ReviewCase(
        id=str(r[0]), session_id=str(r[1]), purpose_key=str(r[2]), face=int(str(r[3])),
        subject_id=str(r[4]), distance=float(str(r[5])), status=CaseStatus(str(r[6])),
        reviewers_required=int(str(r[7])), created_at=parse_time(str(r[8])),
        deadline=parse_time(str(r[9])), decided_at=None if r[10] is None else parse_time(
            str(r[10])), decisions=_decisions(conn, str(r[0])), face_box=_box(r[11]))


def _box(value: object) -> tuple[int, int, int, int] | None:
    """The stored face box, or ``None`` (cases opened before boxes were kept)."""
    if value is None:
        return None
    left, top, right, bottom = (int(v) for v in json.loads(str(value)))
    return left, top, right, bottom


def get_case(conn: Connection, *, case_id: str) -> ReviewCase | None:
    row = conn.execute(f"SELECT {_CASE} FROM review_cases WHERE id = ?", (case_id,)).fetchone()
    return None if row is None else _case(conn, row)


def list_cases(conn: Connection, *, purpose_key: str | None = None,
               status: CaseStatus | None = None,
               session_id: str | None = None) -> list[ReviewCase]:
    where, args = [], []
    for column, value in (("purpose_key", purpose_key), ("session_id", session_id),
                          ("status", None if status is None else status.value)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = f"SELECT {_CASE} FROM review_cases"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_case(conn, r) for r in conn.execute(sql + " ORDER BY created_at, id", args)]


def list_subject_cases(conn: Connection, *, subject_id: str) -> list[dict[str, object]]:
    """The subject's review cases for an access report (R23): facts, no image."""
    return [{"case": c.id, "purpose": c.purpose_key, "session": c.session_id,
             "status": str(c.status), "distance": c.distance,
             "created_at": c.created_at.isoformat(), "deadline": c.deadline.isoformat(),
             "decisions": [{"reviewer": d.reviewer, "verdict": str(d.verdict),
                            "reason": d.reason, "at": d.at.isoformat()} for d in c.decisions]}
            for c in (_case(conn, r) for r in conn.execute(
                f"SELECT {_CASE} FROM review_cases WHERE subject_id = ? ORDER BY created_at, id",
                (subject_id,)))]


def insert_decision(conn: Connection, *, case_id: str, decision: ReviewDecision) -> None:
    conn.execute("INSERT INTO review_decisions (case_id, reviewer, verdict, reason, decided_at) "
                 "VALUES (?, ?, ?, ?, ?)", (case_id, decision.reviewer, decision.verdict.value,
                                            decision.reason, decision.at.isoformat()))


def set_status(conn: Connection, *, case_id: str, status: CaseStatus,
               at: datetime | None) -> None:
    conn.execute("UPDATE review_cases SET status = ?, decided_at = ? WHERE id = ?",
                 (status.value, None if at is None else at.isoformat(), case_id))


def expire_due(conn: Connection, *,
               now: datetime) -> tuple[list[str], list[str], list[str]]:
    """Expire pending cases past their deadline and delete probes past theirs.

    Returns the expired case ids, their sessions, and the sessions whose probe image
    was erased.
    """
    stamp = now.isoformat()
    rows = conn.execute(
        "SELECT id, session_id FROM review_cases WHERE status = ? AND deadline <= ? "
        "ORDER BY id", (CaseStatus.PENDING.value, stamp)).fetchall()
    cases = [str(r[0]) for r in rows]
    touched = sorted({str(r[1]) for r in rows})
    conn.execute("UPDATE review_cases SET status = ?, decided_at = ? WHERE status = ? AND "
                 "deadline <= ?", (CaseStatus.EXPIRED.value, stamp, CaseStatus.PENDING.value,
                                   stamp))
    sessions = [str(r[0]) for r in conn.execute(
        "SELECT session_id FROM review_probes WHERE deadline <= ? ORDER BY session_id",
        (stamp,))]
    conn.execute("DELETE FROM review_probes WHERE deadline <= ?", (stamp,))
    return cases, touched, sessions


def delete_subject_cases(conn: Connection, *, subject_id: str) -> list[str]:
    """Erasure: delete the subject's cases and decisions; returns their sessions."""
    sessions = sorted({str(r[0]) for r in conn.execute(
        "SELECT session_id FROM review_cases WHERE subject_id = ?", (subject_id,))})
    conn.execute("DELETE FROM review_decisions WHERE case_id IN (SELECT id FROM review_cases "
                 "WHERE subject_id = ?)", (subject_id,))
    conn.execute("DELETE FROM review_cases WHERE subject_id = ?", (subject_id,))
    return sessions


# -- the sealed probe image -----------------------------------------------------------

def _ad(session_id: str) -> bytes:
    return associated_data("review-probe", session_id, _MEDIA)


def _label(session_id: str) -> str:
    return f"review-probe:{session_id}"


def seal_probe(conn: Connection, *, ring: KeyRing, session_id: str, image: Image,
               at: datetime, deadline: datetime) -> None:
    """Keep the probe image, sealed under a fresh key wrapped by the KEK, until ``deadline``."""
    buffer = io.BytesIO()
    PILImage.fromarray(image.pixels).save(buffer, format="PNG")
    key = new_key()
    kek, wrapped = ring.wrap(key, subject_id=_label(session_id))
    conn.execute("INSERT INTO review_probes (session_id, kek_id, wrapped_key, media_type, image, "
                 "created_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (session_id, kek, wrapped, _MEDIA, seal(key, buffer.getvalue(),
                                                         _ad(session_id)),
                  at.isoformat(), deadline.isoformat()))


def open_probe(conn: Connection, *, ring: KeyRing, session_id: str) -> bytes | None:
    """The PNG bytes of the session's probe, or ``None`` once it was erased.

    Raises:
        CryptoInvalid: the row was altered or moved to another session.
    """
    row = conn.execute("SELECT kek_id, wrapped_key, image FROM review_probes WHERE "
                       "session_id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    key = ring.unwrap(bytes(row[1]), kek=str(row[0]), subject_id=_label(session_id))
    return open_sealed(key, bytes(row[2]), _ad(session_id))


def reference_image(conn: Connection, *, subject_id: str, purpose_key: str,
                    now: datetime) -> str | None:
    """The uid of the newest unexpired image retained with the subject's enrollment for
    the purpose (R10: only with its separate consent), or ``None``."""
    row = conn.execute("SELECT uid FROM retained_images WHERE subject_id = ? AND "
                       "purpose_key = ? AND expires_at > ? ORDER BY created_at DESC, uid "
                       "LIMIT 1", (subject_id, purpose_key, now.isoformat())).fetchone()
    return None if row is None else str(row[0])


def delete_probe(conn: Connection, *, session_id: str) -> int:
    return conn.execute("DELETE FROM review_probes WHERE session_id = ?",
                        (session_id,)).rowcount


def probe_kek_ids(conn: Connection) -> set[str]:
    """KEKs that wrap a held probe's key (kept at rotation until the probe is gone)."""
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT kek_id FROM review_probes")}


def rewrap_probe_keys(conn: Connection, *, ring: KeyRing) -> int:
    """Re-wrap every held probe key not under ``ring.active``; returns how many."""
    rows = conn.execute("SELECT session_id, kek_id, wrapped_key FROM review_probes WHERE "
                        "kek_id != ?", (ring.active,)).fetchall()
    for session_id, kek, wrapped in rows:
        key = ring.unwrap(bytes(wrapped), kek=str(kek), subject_id=_label(str(session_id)))
        new_kek, new_wrapped = ring.wrap(key, subject_id=_label(str(session_id)))
        conn.execute("UPDATE review_probes SET kek_id = ?, wrapped_key = ? WHERE session_id = ?",
                     (new_kek, new_wrapped, session_id))
    return len(rows)
