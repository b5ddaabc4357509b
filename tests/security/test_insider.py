"""The insider suite (R15, R16): someone who can write to the store but does not hold the
key file tampers with the audit log, the templates and the consent ledger.

Each of the generated tamperings (edit, delete, swap, insert, truncate, retype, NULL
out, legacy downgrade, restore from an older copy, forge the checkpoint) works on its own
copy of a populated store. After each:

* ``facegate audit verify`` reports the store as tampered in one line that names the
  first bad entry (the entry, row or table tampered with), exits 1, and raises nothing;
* a service that had the store open before the tampering refuses its next operation on
  the templates or the ledger: no tampering makes a template match or a refused
  operation go through.

The suite prints how many tamperings it detected out of how many it tried.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from facegate.access.accounts import TOTP_STEP, hash_password
from facegate.access.keys import hash_secret
from facegate.analysis import FaceAnalyzer
from facegate.api import ApiSettings, create_app
from facegate.audit.chain import entry_hash
from facegate.cli import cli
from facegate.clock import FixedClock
from facegate.deployment import Deployment
from facegate.errors import CredentialInvalid, PolicyRefusal, RateLimited, StoreTampered

from ..support.governed import START
from .conftest import P, Populated

pytestmark = pytest.mark.shared_data

AUDIT_TEXT = ("at", "name", "operator", "purpose_key", "subject_id", "outcome", "rule",
              "detail")
ROW = r"(audit entry|template row|consent event) (\d+)"


@dataclass(frozen=True)
class Tampering:
    """One tampering: what it does, to which table, and what the report must name (a
    number for an entry or row, or a table's name)."""

    name: str
    table: str
    apply: Callable[[sqlite3.Connection], None]
    names: str


def _exec(*statements: tuple[str, tuple[object, ...]]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for sql, args in statements:
            conn.execute(sql, args)
    return apply


def _one(sql: str, *args: object) -> Callable[[sqlite3.Connection], None]:
    return _exec((sql, args))


def _audit(conn: sqlite3.Connection, rng: random.Random) -> Iterator[Tampering]:
    last = conn.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
    picks = sorted({1, 2, last // 2, last - 1, last, *rng.sample(range(3, last - 1), 5)})
    for seq in picks:
        for field in AUDIT_TEXT:
            value = "2031-01-01T00:00:00+00:00" if field == "at" else (
                '{"forged": true}' if field == "detail" else "mallory")
            yield Tampering(f"audit edit {field} @{seq}", "audit",
                            _one(f"UPDATE audit_events SET {field} = ? WHERE seq = ?", value,
                                 seq), str(seq))
        yield Tampering(f"audit edit hash @{seq}", "audit", _one(
            "UPDATE audit_events SET hash = ? WHERE seq = ?", "ab" * 32, seq), str(seq))
        yield Tampering(f"audit edit mac @{seq}", "audit", _one(
            "UPDATE audit_events SET mac = ? WHERE seq = ?", "cd" * 32, seq), str(seq))
        yield Tampering(f"audit delete @{seq}", "audit", _one(
            "DELETE FROM audit_events WHERE seq = ?", seq), str(seq))
        yield Tampering(f"audit retype detail @{seq}", "audit", _one(
            "UPDATE audit_events SET detail = CAST(detail AS BLOB) WHERE seq = ?", seq), str(seq))
        yield Tampering(f"audit bad utf-8 @{seq}", "audit", _one(
            "UPDATE audit_events SET operator = CAST(X'6d80ff' AS TEXT) WHERE seq = ?", seq),
            str(seq))
        yield Tampering(f"audit retype outcome @{seq}", "audit", _one(
            "UPDATE audit_events SET outcome = 7 WHERE seq = ?", seq), str(seq))
        yield Tampering(f"audit NULL hash @{seq}", "audit", _one(
            "UPDATE audit_events SET hash = NULL WHERE seq = ?", seq), str(seq))
        yield Tampering(f"audit NULL mac @{seq}", "audit", _one(
            "UPDATE audit_events SET mac = NULL WHERE seq = ?", seq), str(seq))
        if seq < last:
            yield Tampering(f"audit swap @{seq}", "audit", _swap_audit(seq, seq + 1), str(seq))
            yield Tampering(f"audit truncate after {seq}", "audit", _one(
                "DELETE FROM audit_events WHERE seq > ?", seq), str(seq + 1))
            yield Tampering(f"audit delete and re-chain @{seq}", "audit",
                            _rechain(delete=seq), str(seq))
        yield Tampering(f"audit edit and re-chain @{seq}", "audit", _rechain(edit=seq),
                        str(seq))
    yield Tampering("audit append a copy", "audit", _append_copy(last), str(last + 1))
    yield Tampering("audit append untagged", "audit", _append_copy(last, tag=False),
                    str(last + 1))
    yield Tampering("audit rewrite refusals as ok", "audit", _one(
        "UPDATE audit_events SET name = 'verify', outcome = 'ok' WHERE name = 'refusal'"),
        str(conn.execute("SELECT min(seq) FROM audit_events WHERE name = 'refusal'"
                         ).fetchone()[0]))
    yield Tampering("legacy downgrade: hashes NULL, no checkpoint", "audit", _exec(
        ("UPDATE audit_events SET hash = NULL", ()), ("DELETE FROM audit_checkpoint", ())), "1")
    yield Tampering("legacy downgrade: laundered log", "audit", _exec(
        ("DELETE FROM audit_events WHERE name = 'enroll'", ()),
        ("UPDATE audit_events SET outcome = 'ok' WHERE name = 'refusal'", ()),
        ("UPDATE audit_events SET hash = NULL", ()), ("DELETE FROM audit_checkpoint", ())), "1")
    yield Tampering("downgrade: every tag NULL", "audit", _exec(
        ("UPDATE audit_events SET mac = NULL", ()), ("UPDATE templates SET mac = NULL", ()),
        ("UPDATE consent_events SET mac = NULL", ()),
        ("UPDATE audit_checkpoint SET state = NULL", ())), "1")
    for name, sql, args in (
            ("seq -1", "UPDATE audit_checkpoint SET seq = -1", ()),
            ("seq forged", "UPDATE audit_checkpoint SET seq = ?", (last - 3,)),
            ("head not hex", "UPDATE audit_checkpoint SET head = 'zz'", ()),
            ("head of another entry", "UPDATE audit_checkpoint SET head = "
             "(SELECT hash FROM audit_events WHERE seq = 2)", ()),
            ("signature zeroed", "UPDATE audit_checkpoint SET signature = zeroblob(64)", ()),
            ("key id", "UPDATE audit_checkpoint SET key_id = 'ffffffffffffffff'", ()),
            ("state edited", "UPDATE audit_checkpoint SET state = replace(state, "
             "'templates ', 'templates 9')", ()),
            ("state NULL", "UPDATE audit_checkpoint SET state = NULL", ()),
            ("seq retyped", "UPDATE audit_checkpoint SET seq = 'last'", ()),
            ("deleted", "DELETE FROM audit_checkpoint", ())):
        yield Tampering(f"checkpoint {name}", "audit", _one(sql, *args), str(last))


def _swap_audit(a: int, b: int) -> Callable[[sqlite3.Connection], None]:
    cols = ", ".join((*AUDIT_TEXT, "hash", "mac"))

    def apply(conn: sqlite3.Connection) -> None:
        rows = {s: conn.execute(f"SELECT {cols} FROM audit_events WHERE seq = ?",
                                (s,)).fetchone() for s in (a, b)}
        sets = ", ".join(f"{c} = ?" for c in cols.split(", "))
        for seq, other in ((a, b), (b, a)):
            conn.execute(f"UPDATE audit_events SET {sets} WHERE seq = ?", (*rows[other], seq))
    return apply


def _rechain(*, delete: int | None = None,
             edit: int | None = None) -> Callable[[sqlite3.Connection], None]:
    """Delete (then renumber) or edit one entry, then recompute every hash after it and the
    checkpoint's head, as an attacker without the keys can."""
    def apply(conn: sqlite3.Connection) -> None:
        start = delete if delete is not None else edit
        assert start is not None
        if delete is not None:
            conn.execute("DELETE FROM audit_events WHERE seq = ?", (delete,))
            for (seq,) in conn.execute("SELECT seq FROM audit_events WHERE seq > ? "
                                       "ORDER BY seq", (delete,)).fetchall():
                conn.execute("UPDATE audit_events SET seq = seq - 1 WHERE seq = ?", (seq,))
        else:
            conn.execute("UPDATE audit_events SET operator = 'mallory' WHERE seq = ?", (edit,))
        prev = conn.execute("SELECT hash FROM audit_events WHERE seq = ?",
                            (start - 1,)).fetchone()
        head = prev[0] if prev else "00" * 32
        last = start - 1
        for row in conn.execute("SELECT seq, at, name, operator, purpose_key, subject_id, "
                                "outcome, rule, detail, hash FROM audit_events WHERE seq >= ? "
                                "ORDER BY seq", (start,)).fetchall():
            head = entry_hash(head, row)
            conn.execute("UPDATE audit_events SET hash = ? WHERE seq = ?", (head, row[0]))
            last = row[0]
        conn.execute("UPDATE audit_checkpoint SET seq = ?, head = ?", (last, head))
    return apply


def _append_copy(last: int, *, tag: bool = True) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT seq, at, name, operator, purpose_key, subject_id, outcome, "
                           "rule, detail, hash, mac FROM audit_events WHERE seq = ?",
                           (last,)).fetchone()
        forged = (last + 1, *row[1:9])
        digest = entry_hash(row[9], (*forged, None))
        conn.execute("INSERT INTO audit_events (seq, at, name, operator, purpose_key, "
                     "subject_id, outcome, rule, detail, hash, mac) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (*forged, digest, row[10] if tag else None))
    return apply


def _templates(conn: sqlite3.Connection, pop: Populated) -> Iterator[Tampering]:
    rows = conn.execute("SELECT id, subject_id, consent_seq FROM templates ORDER BY id"
                        ).fetchall()
    subjects = [r[1] for r in rows]
    next_id = str(conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'templates'"
                               ).fetchone()[0] + 1)
    edits = {"uid": "'t_forged'", "subject_id": "?",
             "purpose_key": "CASE purpose_key WHEN 'hr.attendance' THEN 'access.office.entry' "
                            "ELSE 'hr.attendance' END",
             "site_key": "'hq.gym'", "pack": "'other'",
             "pack_version": "'9'", "consent_seq": "consent_seq + 1",
             "created_at": "'2020-01-01T00:00:00+00:00'",
             "expires_at": "'2099-01-01T00:00:00+00:00'",
             "descriptor": "substr(descriptor, 1, 20) || X'00' || substr(descriptor, 22)"}
    for row_id, subject, _ in rows:
        for field, value in edits.items():
            args: tuple[object, ...] = (row_id,)
            if field == "subject_id":  # moved to another enrolled subject
                args = (subjects[1] if subject == subjects[0] else subjects[0], row_id)
            yield Tampering(f"template edit {field} #{row_id}", "templates", _one(
                f"UPDATE templates SET {field} = {value} WHERE id = ?", *args), str(row_id))
        yield Tampering(f"template delete #{row_id}", "templates", _one(
            "DELETE FROM templates WHERE id = ?", row_id), "templates")
        for field in ("mac", "uid", "consent_seq"):
            yield Tampering(f"template NULL {field} #{row_id}", "templates", _one(
                f"UPDATE templates SET {field} = NULL WHERE id = ?", row_id), str(row_id))
        yield Tampering(f"template retype expiry #{row_id}", "templates", _one(
            "UPDATE templates SET expires_at = 4102444800 WHERE id = ?", row_id), str(row_id))
        yield Tampering(f"template retype descriptor #{row_id}", "templates", _one(
            "UPDATE templates SET descriptor = CAST(descriptor AS TEXT) WHERE id = ?", row_id),
            str(row_id))
        yield Tampering(f"template copy of #{row_id}", "templates", _one(
            "INSERT INTO templates (uid, subject_id, purpose_key, site_key, pack, pack_version, "
            "descriptor, consent_seq, created_at, expires_at, mac) SELECT uid || 'x', "
            "subject_id, purpose_key, site_key, pack, pack_version, descriptor, consent_seq, "
            "created_at, expires_at, mac FROM templates WHERE id = ?", row_id), next_id)
    a, b = rows[0][0], rows[1][0]
    yield Tampering("template swap descriptors", "templates", _exec(
        ("UPDATE templates SET descriptor = (SELECT descriptor FROM templates WHERE id = ?) "
         "WHERE id = ?", (b, a)),), str(a))
    plain = bytes(4 * 128)  # an attacker's plain float32 descriptor
    yield Tampering("template injected plain (legacy form)", "templates", _one(
        "INSERT INTO templates (subject_id, purpose_key, site_key, pack, pack_version, "
        "descriptor, consent_seq, created_at, expires_at) VALUES (?, ?, 'hq.lobby', "
        "'dlib-resnet-v1', '1.0', ?, ?, '2025-09-01T00:00:00+00:00', "
        "'2099-01-01T00:00:00+00:00')", subjects[0], P, plain, rows[0][2]), next_id)
    yield Tampering("template legacy downgrade of every row", "templates", _one(
        "UPDATE templates SET uid = NULL"), str(rows[0][0]))
    yield Tampering("template of a withdrawn subject restored", "templates",
                    _restore(pop.withdrawn_template, "templates"), "templates")


def _restore(row: tuple[object, ...], table: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        marks = ", ".join("?" * len(row))
        conn.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", row)
    return apply


def _consents(conn: sqlite3.Connection, pop: Populated,
              rng: random.Random) -> Iterator[Tampering]:
    seqs = [r[0] for r in conn.execute("SELECT seq FROM consent_events ORDER BY seq")]
    withdrawals = [r[0] for r in conn.execute(
        "SELECT seq FROM consent_events WHERE kind = 'withdrawn' ORDER BY seq")]
    picks = sorted({seqs[0], seqs[-1], *withdrawals[:4], *rng.sample(seqs, 4)})
    edits = {"kind": "CASE kind WHEN 'granted' THEN 'withdrawn' ELSE 'granted' END",
             "notice_version": "coalesce(notice_version, 0) + 1", "scope": "'transfer'",
             "purpose_key": "CASE purpose_key WHEN 'hr.attendance' THEN 'access.office.entry' "
                            "ELSE 'hr.attendance' END",
             "method": "'written'", "separate": "1 - separate",
             "given_by": "'guardian'", "operator": "'mallory'",
             "recorded_at": "'2020-01-01T00:00:00+00:00'"}
    for seq in picks:
        for field, value in edits.items():
            yield Tampering(f"consent edit {field} #{seq}", "consent_events", _one(
                f"UPDATE consent_events SET {field} = {value} WHERE seq = ?", seq), str(seq))
        yield Tampering(f"consent delete #{seq}", "consent_events", _one(
            "DELETE FROM consent_events WHERE seq = ?", seq), "consent_events")
        yield Tampering(f"consent NULL mac #{seq}", "consent_events", _one(
            "UPDATE consent_events SET mac = NULL WHERE seq = ?", seq), str(seq))
        yield Tampering(f"consent retype kind #{seq}", "consent_events", _one(
            "UPDATE consent_events SET kind = CAST(kind AS BLOB) WHERE seq = ?", seq), str(seq))
        yield Tampering(f"consent retype separate #{seq}", "consent_events", _one(
            "UPDATE consent_events SET separate = CAST(separate AS BLOB) WHERE seq = ?", seq),
            str(seq))
    for a in withdrawals[:3]:  # a withdrawal and the grant it withdrew trade places
        b = conn.execute("SELECT max(seq) FROM consent_events WHERE seq < ? AND subject_id = "
                         "(SELECT subject_id FROM consent_events WHERE seq = ?) AND kind = "
                         "'granted'", (a, a)).fetchone()[0]
        yield Tampering(f"consent swap kinds #{a}/#{b}", "consent_events", _exec((
            "UPDATE consent_events SET kind = CASE seq WHEN ? THEN "
            "(SELECT kind FROM consent_events WHERE seq = ?) ELSE "
            "(SELECT kind FROM consent_events WHERE seq = ?) END WHERE seq IN (?, ?)",
            (a, b, a, a, b)),), str(min(a, b)))
        yield Tampering(f"consent grant forged from #{a}", "consent_events", _one(
            "INSERT INTO consent_events (subject_id, purpose_key, scope, kind, notice_version, "
            "method, separate, given_by, guardian_name, guardian_relation, operator, "
            "recorded_at, mac) SELECT subject_id, purpose_key, scope, 'granted', 1, method, "
            "separate, given_by, guardian_name, guardian_relation, operator, recorded_at, mac "
            "FROM consent_events WHERE seq = ?", a), str(seqs[-1] + 1))
    withdrawal = max(r[0] for r in pop.withdrawn_consents) + 1
    yield Tampering("consent: the withdrawn subject's withdrawal deleted", "consent_events",
                    _one("DELETE FROM consent_events WHERE subject_id = ? AND seq >= ?",
                         pop.withdrawn, withdrawal), "consent_events")
    yield Tampering("consent legacy downgrade: every tag NULL", "consent_events", _one(
        "UPDATE consent_events SET mac = NULL"), str(seqs[0]))
    # The withdrawal moved to another subject: the withdrawn subject's ledger reads as
    # granted again, and no table-wide count or sum changes (its digest says otherwise).
    other = next(r[0] for r in conn.execute(
        "SELECT subject_id FROM consent_events WHERE subject_id != ? ORDER BY seq",
        (pop.withdrawn,)))
    moved = conn.execute("SELECT min(seq) FROM consent_events WHERE subject_id = ? AND "
                         "kind = 'withdrawn'", (pop.withdrawn,)).fetchone()[0]
    yield Tampering("consent: the withdrawal moved to another subject", "consent_events",
                    _one("UPDATE consent_events SET subject_id = ? WHERE seq = ?", other, moved),
                    str(moved))
    for name, sql, names in (
            ("count", "UPDATE subject_digests SET consents = consents - 1",
             "consent digest of subject"),
            ("sum", "UPDATE subject_digests SET consent_sum = "
                    "'00000000000000000000000000000000000000000000000000000000000000ff'",
             "consent digest of subject"),
            ("deleted", "DELETE FROM subject_digests", "subject_digests table"),
            ("moved", "UPDATE subject_digests SET subject_id = 's_0000000000000000' "
                      "WHERE subject_id = (SELECT min(subject_id) FROM subject_digests)",
             "consent digest of subject")):
        yield Tampering(f"consent digests: {name}", "subject_digests", _one(sql), names)
    for name, sql in (("count", "UPDATE row_digests SET row_count = row_count + 1"),
                      ("sum", "UPDATE row_digests SET digest = "
                              "'00000000000000000000000000000000000000000000000000000000000000ff'"),
                      ("row deleted", "DELETE FROM row_digests WHERE name = 'templates'")):
        yield Tampering(f"table state: {name}", "row_digests", _one(sql), "running state")


#: a secret the insider chose: its hash is what they would write into a key row
KNOWN_SECRET = "fg_the-insider-chose-this-secret"


def _keys(conn: sqlite3.Connection) -> Iterator[Tampering]:
    """Who may call the service: a key forged with a secret the insider knows, a key
    raised to admin, a scope widened, a secret swapped, a revocation undone."""
    keys = conn.execute("SELECT id, purposes, revoked_at FROM api_keys ORDER BY id").fetchall()
    known = hash_secret(KNOWN_SECRET)
    for key_id, purposes, revoked_at in keys:
        names = f"API key {key_id}"
        yield Tampering(f"key raised to admin {key_id}", "api_keys", _one(
            "UPDATE api_keys SET role = 'admin' WHERE id = ?", key_id), names)
        yield Tampering(f"key scope widened {key_id}", "api_keys", _one(
            "UPDATE api_keys SET purposes = ?, sites = NULL WHERE id = ?",
            None if purposes else '["access.office.entry"]', key_id), names)
        yield Tampering(f"key secret swapped {key_id}", "api_keys", _one(
            "UPDATE api_keys SET secret_hash = ? WHERE id = ?", known, key_id), names)
        yield Tampering(f"key NULL mac {key_id}", "api_keys", _one(
            "UPDATE api_keys SET mac = NULL WHERE id = ?", key_id), names)
        yield Tampering(f"key deleted {key_id}", "api_keys", _one(
            "DELETE FROM api_keys WHERE id = ?", key_id), "api_keys")
        if revoked_at is not None:
            yield Tampering(f"key revocation undone {key_id}", "api_keys", _one(
                "UPDATE api_keys SET revoked_at = NULL WHERE id = ?", key_id), names)
    yield Tampering("key forged: an admin key with a known secret and a copied tag",
                    "api_keys", _one(
                        "INSERT INTO api_keys (id, secret_hash, role, label, purposes, sites, "
                        "subject_id, created_at, revoked_at, mac) SELECT 'k_f0f0f0f0f0f0', ?, "
                        "'admin', 'ops', NULL, NULL, NULL, created_at, NULL, mac FROM api_keys "
                        "WHERE id = ?", known, keys[0][0]), "API key k_f0f0f0f0f0f0")


#: a password the insider chose: its argon2 hash is what they would write into an account
KNOWN_PASSWORD = "the-insider-chose-this-password"


def _accounts(conn: sqlite3.Connection) -> Iterator[Tampering]:
    """Who signs in to the dashboard: an account planted with a password the insider knows,
    a role raised, a scope widened, a password hash swapped, a disabling undone."""
    rows = conn.execute("SELECT id, name, role, purposes, disabled_at FROM staff_accounts "
                        "ORDER BY id").fetchall()
    known = hash_password(KNOWN_PASSWORD)
    for account_id, name, role, purposes, disabled_at in rows:
        names = f"staff account {account_id}"
        other = "reviewer" if role == "admin" else "admin"
        yield Tampering(f"account role changed to {other} {name}", "staff_accounts", _one(
            "UPDATE staff_accounts SET role = ? WHERE id = ?", other, account_id), names)
        yield Tampering(f"account scope widened {name}", "staff_accounts", _one(
            "UPDATE staff_accounts SET purposes = ?, sites = NULL WHERE id = ?",
            None if purposes else '["hr.attendance"]', account_id), names)
        yield Tampering(f"account password hash swapped {name}", "staff_accounts", _one(
            "UPDATE staff_accounts SET password_hash = ? WHERE id = ?", known, account_id),
            names)
        yield Tampering(f"account renamed {name}", "staff_accounts", _one(
            "UPDATE staff_accounts SET name = 'root' WHERE id = ?", account_id), names)
        yield Tampering(f"account NULL mac {name}", "staff_accounts", _one(
            "UPDATE staff_accounts SET mac = NULL WHERE id = ?", account_id), names)
        yield Tampering(f"account deleted {name}", "staff_accounts", _one(
            "DELETE FROM staff_accounts WHERE id = ?", account_id), "staff_accounts")
        if disabled_at is not None:
            yield Tampering(f"account disabling undone {name}", "staff_accounts", _one(
                "UPDATE staff_accounts SET disabled_at = NULL WHERE id = ?", account_id),
                names)
    yield Tampering("account planted: an admin with a known password and a copied tag",
                    "staff_accounts", _one(
                        "INSERT INTO staff_accounts (id, name, display_name, role, purposes, "
                        "sites, password_hash, created_by, created_at, disabled_at, kek_id, "
                        "totp_sealed, mac) SELECT 's_f0f0f0f0f0f0', 'mallory', 'Mallory', "
                        "'admin', NULL, NULL, ?, created_by, created_at, NULL, kek_id, "
                        "totp_sealed, mac FROM staff_accounts WHERE id = ?", known, rows[0][0]),
                    "staff account s_f0f0f0f0f0f0")


def tamperings(pop: Populated, tmp: Path) -> list[Tampering]:
    rng = random.Random(18)
    conn = sqlite3.connect(pop.copy_to(tmp / "plan"))
    try:
        return [*_audit(conn, rng), *_templates(conn, pop), *_consents(conn, pop, rng),
                *_keys(conn), *_accounts(conn)]
    finally:
        conn.close()


def _reported(result: object, tampering: Tampering) -> str | None:
    """What is wrong with the CLI's report of a tampering, or ``None``."""
    exit_code = getattr(result, "exit_code", None)
    stderr = str(getattr(result, "stderr", ""))
    if exit_code != 1 or not isinstance(getattr(result, "exception", None), SystemExit):
        return f"exit {exit_code}, {getattr(result, 'exception', None)!r}"
    lines = stderr.splitlines()
    if len(lines) != 1 or "Traceback" in stderr:
        return f"not one line: {stderr!r}"
    match = re.match(r"facegate: (audit\.chain_broken|storage\.tampered): (.*)$", lines[0])
    if match is None:
        return f"not a tamper report: {lines[0]}"
    named = re.search(ROW, match.group(2))
    if tampering.names.isdigit():
        if named is None or named.group(2) != tampering.names:
            return f"names the wrong entry: {lines[0]}"
    elif tampering.names not in match.group(2):
        return f"does not name {tampering.names}: {lines[0]}"
    return None


def _service_refuses(db: Path, pop: Populated, analyzer: FaceAnalyzer,
                     tamper: Callable[[sqlite3.Connection], None], faces: dict[str, Path],
                     ) -> str | None:
    """A service holding the store open: tamper behind its back, then ask it to verify
    the enrolled and the withdrawn subjects. No call may rest on a tampered row: each call
    refuses the store (a row deleted, added or swapped changes the signed counts and sums
    it checks first; a row it reads is checked by its tag) or is refused by the gate. Then
    its scheduled full check names the tampering, and every later call is refused."""
    d = Deployment.open(db, analyzer=analyzer, clock=FixedClock(START))
    try:
        with sqlite3.connect(db) as conn:
            tamper(conn)
        conn.close()
        try:
            key = d.authenticate(KNOWN_SECRET)
        except (CredentialInvalid, StoreTampered):
            pass
        else:
            return f"the insider's own secret authenticated as {key!r}"
        signed = _account_signs_in(d, pop)
        if signed is not None:
            return signed
        for subject, photo in ((pop.enrolled["obama"], "obama2"), (pop.withdrawn, "lennon2")):
            try:
                result = d.verify(subject=subject, purpose=P, image=faces[photo])
            except (StoreTampered, PolicyRefusal):
                continue
            except Exception as exc:  # any other answer is reported as wrong
                return f"verify raised {type(exc).__name__}: {exc}"
            # The enrolled person may still be matched on their own untouched template
            # (the tampered rows were others'); the withdrawn one never.
            if subject == pop.withdrawn:
                return f"verify answered {result!r}"
        try:
            d.check_store()
        except StoreTampered:
            pass
        else:
            return "the scheduled full check found nothing"
        try:
            answered = d.verify(subject=pop.enrolled["obama"], purpose=P,
                                image=faces["obama2"])
        except StoreTampered:
            return None
        return f"after the full check, verify answered {answered!r}"
    finally:
        d.close()


def _account_signs_in(d: Deployment, pop: Populated) -> str | None:
    """Each account, with the insider's password and with its own (as if its holder, or
    someone who phished the TOTP secret, signed in): none signs in with the insider's
    password, and one signs in with its own only with its stored role and scope, when it
    is enabled."""
    now = time.time()
    for name in (*pop.staff, "root", "mallory"):
        password, secret, role, purposes, off = pop.staff.get(
            name, (KNOWN_PASSWORD, pop.staff["wang"][1], "", None, True))
        for attempt in (KNOWN_PASSWORD, password):
            now += TOTP_STEP
            try:
                account = d.sign_in_staff(name=name, password=attempt, code=pyotp.TOTP(
                    secret).at(now), client="insider", now=now)
            except (CredentialInvalid, RateLimited, StoreTampered):
                continue
            stored = None if account.purposes is None else json.dumps(sorted(account.purposes))
            if attempt == KNOWN_PASSWORD or off or account.role != role or stored != purposes:
                return f"{name} signed in as {account!r}"
    return None


def test_r15_r16_every_insider_tampering_is_detected(
        populated: Populated, analyzer: FaceAnalyzer, faces: dict[str, Path],
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tamperings(populated, tmp_path)
    runner = CliRunner()
    missed: list[str] = []
    for i, t in enumerate(plan):
        db = populated.copy_to(tmp_path / f"t{i}")
        with sqlite3.connect(db) as conn:
            t.apply(conn)
        conn.close()
        problem = _reported(runner.invoke(cli, ["audit", "verify", "--db", str(db)]), t)
        if problem is None and t.table != "audit":
            problem = _service_refuses(populated.copy_to(tmp_path / f"s{i}"), populated,
                                       analyzer, t.apply, faces)
        if problem is not None:
            missed.append(f"{t.name}: {problem}")
    detected = len(plan) - len(missed)
    with capsys.disabled():
        sys.stdout.write(
            f"\ninsider suite: detected {detected} of {len(plan)} tamperings "
            f"({sum(t.table == 'audit' for t in plan)} of the audit log, "
            f"{sum(t.table == 'templates' for t in plan)} of templates, "
            f"{sum(t.table in ('consent_events', 'subject_digests', 'row_digests') for t in plan)}"
            " of the consent ledger, its digests and the tables' state, "
            f"{sum(t.table == 'api_keys' for t in plan)} of the API keys, "
            f"{sum(t.table == 'staff_accounts' for t in plan)} of the staff accounts)\n")
    assert len(plan) >= 200
    assert missed == [], "\n".join(missed)


def test_r15_the_untouched_copy_verifies(populated: Populated, tmp_path: Path) -> None:
    """The suite's store is intact before anyone touches it, so every report above is
    the tampering's, and it holds what an insider would go after."""
    db = populated.copy_to(tmp_path / "clean")
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        entries = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        templates = conn.execute("SELECT count(*) FROM templates").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM review_cases").fetchone()[0]
    conn.close()
    assert entries >= 300 and templates >= 4 and cases >= 1


def test_r16_a_key_forged_in_the_store_is_refused_and_audited(
        populated: Populated, tmp_path: Path) -> None:
    """A running service; an insider writes an admin key whose secret they know, copying
    another row's tag: the service refuses it (storage.tampered, in the one error shape),
    records the integrity failure, and refuses every later write."""
    db = populated.copy_to(tmp_path / "forged")
    with Deployment.open(db, clock=FixedClock(START)) as d:
        client = TestClient(create_app(ApiSettings(), deployment=d))
        with sqlite3.connect(db) as conn:
            _one("INSERT INTO api_keys (id, secret_hash, role, label, purposes, sites, "
                 "subject_id, created_at, revoked_at, mac) SELECT 'k_f0f0f0f0f0f0', ?, "
                 "'admin', 'ops', NULL, NULL, NULL, created_at, NULL, mac FROM api_keys "
                 "ORDER BY id LIMIT 1", hash_secret(KNOWN_SECRET))(conn)
        conn.close()
        r = client.get("/v1/keys", headers={"X-API-Key": KNOWN_SECRET})
        assert r.status_code >= 400
        assert r.json()["error"]["code"] == "storage.tampered", r.json()
        assert "API key k_f0f0f0f0f0f0" in r.json()["error"]["message"]
        assert [e.outcome for e in d.audit_events() if e.name == "integrity-failure"] == [
            "storage.tampered"]
        with pytest.raises(StoreTampered):
            d.register_subject(age_band="adult")
