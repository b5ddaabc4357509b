"""Tags on every protected row, and the tables' state under the signed checkpoint (R15, R16).

The store can be copied and edited by someone who does not hold the key file
(in central mode: anyone with write access to the database). Each protected
row, a template, a consent event or an audit entry, carries an HMAC-SHA256 tag
(``mac``) of its canonical form under a key derived from the audit signing key
(:class:`~facegate.crypto.keyring.RowMac`), so an edited, retyped, nulled or
inserted row does not verify. Each of the two protected tables also has a
running state in ``row_digests``: its row count and the sum of its rows' tags
(mod 2^256), kept up to date by :class:`RowGuard` on every insert and delete,
and signed with the log's head in every checkpoint; a row deleted, or one
restored from an older copy, changes the count or the sum. Only facegate's own
write paths (:mod:`facegate.templates.store`, :mod:`facegate.consent.ledger`)
go through the guard, each in a transaction that ends with an audit entry.

:func:`check_open` runs at every open: the rows of both tables one by one, their
state against the signed checkpoint, and the log's head. :func:`verify_store`
(``facegate audit verify``) adds every audit entry. A failure names the first
bad row: :class:`~facegate.errors.AuditChainBroken` for the log,
:class:`~facegate.errors.StoreTampered` for the tables. A store written before
the tags existed is refused with :class:`~facegate.errors.StoreUpgradeRequired`
until a key holder runs ``facegate store upgrade``; rows without a tag are never
adopted by any other path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from ..crypto.keyring import RowMac, Signer
from ..errors import AuditChainBroken, StoreTampered, StoreUpgradeRequired
from ..storage.connection import Connection
from ..storage.db import snapshot
from .chain import ChainReport, Checkpoint, checkpoint_signed, is_hex_digest, verify_chain

__all__ = ["AUDIT_COLUMNS", "TABLES", "RowGuard", "StoreForm", "TableSpec", "audit_row_valid",
           "check_head", "check_open", "checkpoint", "inspect_store", "row_message", "signed_state",
           "state_text", "table_state", "tag_all", "verify_old_log", "verify_store"]

_MOD: Final = 1 << 256

#: The audit log's stored columns, in hashing order, then its tag.
AUDIT_COLUMNS: Final = ("seq", "at", "name", "operator", "purpose_key", "subject_id", "outcome",
                        "rule", "detail", "hash")


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A protected table: its key column and the columns its tag covers, in order."""

    name: str
    key: str
    columns: tuple[str, ...]
    noun: str

    @property
    def select(self) -> str:
        return ", ".join(self.columns)


#: The protected tables besides the log.
TABLES: Final[Mapping[str, TableSpec]] = MappingProxyType({
    "consent_events": TableSpec(
        name="consent_events", key="seq", noun="consent event",
        columns=("seq", "subject_id", "purpose_key", "scope", "kind", "notice_version",
                 "method", "separate", "given_by", "guardian_name", "guardian_relation",
                 "operator", "recorded_at")),
    "templates": TableSpec(
        name="templates", key="id", noun="template row",
        columns=("id", "uid", "subject_id", "purpose_key", "site_key", "pack", "pack_version",
                 "descriptor", "consent_seq", "created_at", "expires_at")),
    "subject_digests": TableSpec(
        name="subject_digests", key="subject_id", noun="consent digest of subject",
        columns=("subject_id", "consents", "consent_sum")),
    "api_keys": TableSpec(
        name="api_keys", key="id", noun="API key",
        columns=("id", "secret_hash", "role", "label", "purposes", "sites", "subject_id",
                 "created_at", "revoked_at")),
    "staff_accounts": TableSpec(
        name="staff_accounts", key="id", noun="staff account",
        columns=("id", "name", "display_name", "role", "purposes", "sites", "password_hash",
                 "created_by", "created_at", "disabled_at")),
})


def _value(v: object) -> object:
    """A stored value for the canonical form; its SQL type shows (a number, text and a
    blob of the same bytes are three different values)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, bytes | bytearray | memoryview):
        return {"blob": hashlib.sha256(bytes(v)).hexdigest()}
    if isinstance(v, float):
        return {"real": repr(v)}
    return {"other": repr(v)}


def row_message(table: str, values: Sequence[object]) -> bytes:
    """The canonical bytes a row's tag covers: the table's name and its typed values."""
    return json.dumps([f"facegate.row.v1:{table}", *(_value(v) for v in values)],
                      separators=(",", ":"), ensure_ascii=True).encode()


def audit_row_valid(mac: RowMac) -> Any:
    """A check of an audit row ``(..., hash, mac)``'s tag, for :func:`verify_chain`."""
    def valid(row: Sequence[object]) -> bool:
        return mac.valid(row_message("audit_events", row[:10]), row[10])
    return valid


def _tag_value(tag: object) -> int:
    return int(tag, 16) if isinstance(tag, str) and is_hex_digest(tag) else 0


def state_text(states: Mapping[str, tuple[int, int]]) -> str:
    """The signed form of the tables' state: ``name count sum`` per table, sorted."""
    return ";".join(f"{name} {count} {total:064x}" for name, (count, total)
                    in sorted(states.items()))


def _count(value: object) -> int:
    """A stored row count; anything but a count (a tampered value) is -1."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _stored_states(conn: Connection) -> dict[str, tuple[int, int]]:
    states = {name: (0, 0) for name in TABLES}
    for name, count, digest in conn.execute("SELECT name, row_count, digest FROM row_digests"):
        if name in states:
            states[str(name)] = (_count(count), _tag_value(digest))
    return states


def checkpoint(conn: Connection) -> Checkpoint | None:
    """The stored checkpoint, whatever was written into it (see :meth:`Checkpoint.from_row`)."""
    row = conn.execute("SELECT seq, head, key_id, signature, signed_at, state "
                       "FROM audit_checkpoint WHERE id = 1").fetchone()
    return None if row is None else Checkpoint.from_row(tuple(row))


class RowGuard:
    """Tags the rows facegate writes and keeps the tables' running state, in the caller's
    transaction; checks the tags of rows it reads.

    Args:
        conn: the store, inside the caller's transaction.
        mac: the deployment's row tags.
    """

    def __init__(self, conn: Connection, mac: RowMac) -> None:
        self._conn = conn
        self._mac = mac

    def _add(self, table: str, count: int, total: int) -> None:
        row = self._conn.execute("SELECT row_count, digest FROM row_digests WHERE name = ?",
                                 (table,)).fetchone()
        now_count, now_total = (0, 0) if row is None else (_count(row[0]), _tag_value(row[1]))
        self._conn.execute(
            "INSERT INTO row_digests (name, row_count, digest) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET row_count = excluded.row_count, "
            "digest = excluded.digest",
            (table, now_count + count, f"{(now_total + total) % _MOD:064x}"))

    def tag(self, table: str, key: object) -> str:
        """Tag the row ``key`` of ``table`` just written, as stored, and count it; its tag.

        A consent event also counts in its subject's digest (:meth:`check_consents`)."""
        spec = TABLES[table]
        row = self._conn.execute(f"SELECT {spec.select} FROM {table} WHERE {spec.key} = ?",
                                 (key,)).fetchone()
        tag = self._mac.tag(row_message(table, tuple(row)))
        self._conn.execute(f"UPDATE {table} SET mac = ? WHERE {spec.key} = ?", (tag, key))
        self._add(table, 1, int(tag, 16))
        if table == "consent_events":
            self._count_consent(str(row[1]), int(tag, 16))
        return tag

    def retag(self, table: str, key: object, old: Sequence[object]) -> str:
        """Re-tag the row ``key`` of ``table`` after facegate changed it; ``old`` is the row
        as read before the change (its columns, then its tag), checked first so that a
        row edited behind facegate's back is never blessed. Its new tag."""
        self.check(table, old)
        spec = TABLES[table]
        row = self._conn.execute(f"SELECT {spec.select} FROM {table} WHERE {spec.key} = ?",
                                 (key,)).fetchone()
        tag = self._mac.tag(row_message(table, tuple(row)))
        self._conn.execute(f"UPDATE {table} SET mac = ? WHERE {spec.key} = ?", (tag, key))
        self._add(table, 0, int(tag, 16) - _tag_value(old[-1]))
        return tag

    def _count_consent(self, subject: str, tag: int) -> None:
        """Add one consent event with ``tag`` to ``subject``'s digest, re-tagging it."""
        row = self._conn.execute(
            f"SELECT {TABLES['subject_digests'].select}, mac FROM subject_digests "
            "WHERE subject_id = ?", (subject,)).fetchone()
        if row is None:
            self._conn.execute("INSERT INTO subject_digests (subject_id, consents, consent_sum) "
                               "VALUES (?, 1, ?)", (subject, f"{tag % _MOD:064x}"))
            self.tag("subject_digests", subject)
            return
        self.check("subject_digests", tuple(row))  # never bless a digest edited behind us
        self._conn.execute(
            "UPDATE subject_digests SET consents = ?, consent_sum = ? WHERE subject_id = ?",
            (_count(row[1]) + 1, f"{(_tag_value(row[2]) + tag) % _MOD:064x}", subject))
        new = self._mac.tag(row_message("subject_digests", (
            subject, _count(row[1]) + 1, f"{(_tag_value(row[2]) + tag) % _MOD:064x}")))
        self._conn.execute("UPDATE subject_digests SET mac = ? WHERE subject_id = ?",
                           (new, subject))
        self._add("subject_digests", 0, int(new, 16) - _tag_value(row[3]))

    def check_consents(self, subject: str, rows: Sequence[Sequence[object]]) -> None:
        """Refuse ``subject``'s consent events (all of them, as read, tags already checked)
        unless they are exactly those its tagged digest counts: none was moved to another
        subject, deleted or restored behind facegate's back.

        Raises:
            StoreTampered: the digest does not verify or does not match.
        """
        digest = self._conn.execute(
            f"SELECT {TABLES['subject_digests'].select}, mac FROM subject_digests "
            "WHERE subject_id = ?", (subject,)).fetchone()
        count = len(rows)
        total = sum(_tag_value(r[-1]) for r in rows) % _MOD
        if digest is None:
            if count:
                raise _consents_moved(subject, rows)
            return
        self.check("subject_digests", tuple(digest))
        if (_count(digest[1]), _tag_value(digest[2])) != (count, total):
            raise _consents_moved(subject, rows)

    def delete(self, table: str, where: str, args: Sequence[object]) -> int:
        """``DELETE FROM table WHERE where``, taking the rows out of the state; how many."""
        tags = [r[0] for r in self._conn.execute(
            f"DELETE FROM {table} WHERE {where} RETURNING mac", tuple(args)).fetchall()]
        if tags:
            self._add(table, -len(tags), -sum(_tag_value(t) for t in tags))
        return len(tags)

    def check(self, table: str, row: Sequence[object]) -> None:
        """Refuse a row read back (its columns as in :data:`TABLES`, then its tag).

        Raises:
            StoreTampered: the tag is missing or does not verify.
        """
        spec = TABLES[table]
        if not self._mac.valid(row_message(table, row[:-1]), row[-1]):
            raise _row_tampered(spec, row[0])


def _consents_moved(subject: str, rows: Sequence[Sequence[object]]) -> StoreTampered:
    first = rows[0][0] if rows else None
    return StoreTampered(
        f"the consent events of subject {subject} do not match their signed digest: an event "
        "was moved, deleted or restored behind facegate's back"
        + (f" (its ledger starts at consent event {first})" if first is not None else ""),
        details={"table": "consent_events", "row": _plain(first), "subject": subject,
                 "rule": "R15"})


def _row_tampered(spec: TableSpec, key: object) -> StoreTampered:
    return StoreTampered(f"{spec.noun} {key} was altered or written behind facegate's back "
                         "(its tag does not verify); it is not used",
                         details={"table": spec.name, "row": _plain(key), "rule": "R16"})


def _plain(key: object) -> object:
    return key if isinstance(key, int | str) or key is None else repr(key)


def _rows(conn: Connection, spec: TableSpec) -> Iterator[tuple[object, ...]]:
    for r in conn.execute(f"SELECT {spec.select}, mac FROM {spec.name} ORDER BY {spec.key}"):
        yield tuple(r)


def table_state(conn: Connection, mac: RowMac, spec: TableSpec) -> tuple[int, int]:
    """Check every row of ``spec``'s table; its count and tag sum.

    Raises:
        StoreTampered: the first row (in key order) whose tag is missing or wrong.
    """
    count = total = 0
    for row in _rows(conn, spec):
        tag = row[-1]
        if not mac.valid(row_message(spec.name, row[:-1]), tag):
            raise _row_tampered(spec, row[0])
        count, total = count + 1, total + int(str(tag), 16)
    return count, total % _MOD


def _check_subject_digests(conn: Connection) -> None:
    """Every subject's consent events against its digest (their tags already checked)."""
    actual: dict[str, tuple[int, int, object]] = {}
    for seq, subject, tag in conn.execute(
            "SELECT seq, subject_id, mac FROM consent_events ORDER BY seq"):
        count, total, first = actual.get(str(subject), (0, 0, seq))
        actual[str(subject)] = (count + 1, total + _tag_value(tag), first)
    stored = {str(r[0]): (_count(r[1]), _tag_value(r[2]))
              for r in conn.execute("SELECT subject_id, consents, consent_sum "
                                    "FROM subject_digests ORDER BY subject_id")}
    for subject in sorted(set(actual) | set(stored)):
        count, total, first = actual.get(subject, (0, 0, None))
        if stored.get(subject) != (count, total % _MOD):
            raise StoreTampered(
                f"the consent events of subject {subject} do not match their signed digest: "
                "an event was moved, deleted or restored behind facegate's back"
                + (f" (its ledger starts at consent event {first})" if first is not None
                   else ""),
                details={"table": "consent_events", "row": _plain(first), "subject": subject,
                         "rule": "R15"})


def _check_tables(conn: Connection, mac: RowMac, signed: Checkpoint | None) -> None:
    """Every row's tag, each subject's consent digest, then each table's state against
    the signed one."""
    found = {name: table_state(conn, mac, spec) for name, spec in TABLES.items()}
    if signed is None:
        for name, (count, _) in found.items():
            if count:
                raise StoreTampered(
                    f"the {name} table holds {count} row(s) but the log has no signed "
                    "checkpoint to vouch for them", details={"table": name, "rule": "R15"})
        return
    claimed = _parse_state(signed.state or "")
    running = _stored_states(conn)
    for name, (count, total) in found.items():
        if running.get(name) != claimed.get(name):
            raise StoreTampered(
                f"the running state of the {name} table was altered: it does not match the "
                f"signed checkpoint at audit entry {signed.seq}",
                details={"table": "row_digests", "row": name, "seq": signed.seq,
                         "rule": "R15"})
        want = claimed.get(name)
        if want == (count, total):
            continue
        if want is None:
            how = "the signed checkpoint does not cover it"
        elif count < want[0]:
            how = f"{want[0] - count} row(s) fewer than signed: deleted behind facegate's back"
        elif count > want[0]:
            how = f"{count - want[0]} row(s) more than signed: added or restored from a copy"
        else:
            how = "rows were swapped for others (deleted and restored from a copy)"
        raise StoreTampered(
            f"the {name} table does not match the signed checkpoint at audit entry "
            f"{signed.seq}: {how}",
            details={"table": name, "rows": count, "signed_rows": want[0] if want else None,
                     "seq": signed.seq, "rule": "R15"})
    _check_subject_digests(conn)


def _parse_state(text: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for part in text.split(";"):
        bits = part.split(" ")
        if len(bits) == 3 and bits[1].isdigit() and is_hex_digest(bits[2]):
            out[bits[0]] = (int(bits[1]), int(bits[2], 16))
    return out


def signed_state(conn: Connection) -> str:
    """The tables' running state, as the next checkpoint signs it."""
    return state_text(_stored_states(conn))


@dataclass(frozen=True, slots=True)
class StoreForm:
    """What an open finds before it reads the keys: rows of the form facegate wrote
    before protected storage (unsealed templates, unchained entries), anything of the
    protected form (wrapped keys, sealed rows, hashes, a checkpoint), and whether the
    checkpoint is of the older form without the tables' state."""

    legacy_rows: bool
    protected: bool
    v1_checkpoint: bool
    tagged: bool

    @property
    def legacy_only(self) -> bool:
        """A store from before protected storage: plain rows and nothing protected."""
        return self.legacy_rows and not self.protected


def _exists(conn: Connection, sql: str) -> bool:
    return conn.execute(sql + " LIMIT 1").fetchone() is not None


def inspect_store(conn: Connection) -> StoreForm:
    """The store's form (see :class:`StoreForm`); reads no secret."""
    legacy = (_exists(conn, "SELECT 1 FROM templates WHERE uid IS NULL")
              or _exists(conn, "SELECT 1 FROM audit_events WHERE hash IS NULL"))
    cp = conn.execute("SELECT state FROM audit_checkpoint WHERE id = 1").fetchone()
    protected = (cp is not None or _exists(conn, "SELECT 1 FROM subject_keys")
                 or _exists(conn, "SELECT 1 FROM templates WHERE uid IS NOT NULL")
                 or _exists(conn, "SELECT 1 FROM audit_events WHERE hash IS NOT NULL"))
    tagged = any(_exists(conn, f"SELECT 1 FROM {t} WHERE mac IS NOT NULL")
                 for t in ("templates", "consent_events", "audit_events"))
    return StoreForm(legacy_rows=legacy, protected=protected,
                     v1_checkpoint=cp is not None and cp[0] is None, tagged=tagged)


def _first_legacy(conn: Connection) -> None:
    """Refuse rows of the form facegate wrote before protected storage, in a store that
    has keys: they are never adopted outside ``facegate store upgrade``."""
    row = conn.execute("SELECT min(seq) FROM audit_events WHERE hash IS NULL").fetchone()
    if row[0] is not None:
        raise AuditChainBroken(
            f"audit entry {row[0]} is not chained: a store with keys never holds unchained "
            "entries, and they are not adopted", details={"seq": row[0], "rule": "R15"})
    row = conn.execute("SELECT min(id) FROM templates WHERE uid IS NULL").fetchone()
    if row[0] is not None:
        raise StoreTampered(
            f"template row {row[0]} is not sealed: a store with keys never holds unsealed "
            "templates, and they are not adopted",
            details={"table": "templates", "row": row[0], "rule": "R16"})


def _audit_rows(conn: Connection) -> Iterator[tuple[object, ...]]:
    for r in conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)}, mac FROM audit_events "
                          "ORDER BY seq"):
        yield tuple(r)


def _upgrade_needed(signer: Signer, form: StoreForm, signed: Checkpoint | None) -> bool:
    """A store an older facegate wrote with keys: a v1 checkpoint that its key signed,
    and no tag anywhere."""
    return (form.v1_checkpoint and not form.tagged and signed is not None
            and checkpoint_signed(signed, public_key=signer.public_key, key_id=signer.key_id))


def check_open(conn: Connection, *, signer: Signer, mac: RowMac) -> None:
    """What every open checks, in one read snapshot: no row of the old plain form, the
    checkpoint's signature, the log's head (its last entry, its count, nothing after the
    checkpoint), and every template and consent row with the tables' signed state.

    A break in the log's head is then located by a full check of the log, so the error
    names the first bad entry. Entries in the middle of the log are checked by
    :func:`verify_store`.

    Raises:
        StoreUpgradeRequired: written by an older facegate (a v1 checkpoint, no tags).
        AuditChainBroken, StoreTampered: the first bad entry or row.
    """
    with snapshot(conn):
        form = inspect_store(conn)
        signed = checkpoint(conn)
        if _upgrade_needed(signer, form, signed):
            raise StoreUpgradeRequired(
                "the store was written by an older facegate (no row tags); a key holder "
                "upgrades it once with: facegate store upgrade", details={"form": "v1"})
        _first_legacy(conn)
        if not _head_ok(conn, signer, mac, signed):
            _verify_log(conn, signer, mac, signed)
            raise AuditChainBroken("the audit log does not match its signed checkpoint",
                                   details={"rule": "R15"})
        _check_tables(conn, mac, signed)


def check_head(conn: Connection, *, signer: Signer, mac: RowMac) -> None:
    """What a running service checks when another connection has committed: the log's
    head (as :func:`check_open` does) and each protected table's row count and tag sum
    against the tables' signed state, in one read snapshot: a row deleted, added or
    swapped for an older copy shows. It reads the tag column only; :func:`check_open`
    also recomputes every row's tag (a row edited in place is refused when it is read,
    and named by the next open or ``audit verify``). A mismatch is then located by
    :func:`check_open`, so the error names the first bad entry or row.

    Raises:
        AuditChainBroken, StoreTampered: the first bad entry or row.
    """
    with snapshot(conn):
        signed = checkpoint(conn)
        ok = _head_ok(conn, signer, mac, signed)
        claimed = _parse_state(signed.state or "") if signed is not None else {}
        running = _stored_states(conn)
        for name in TABLES:
            count = total = 0
            for (tag,) in conn.execute(f"SELECT mac FROM {name}"):
                count, total = count + 1, total + _tag_value(tag)
            want = claimed.get(name, (0, 0)) if signed is not None else (0, 0)
            if signed is not None and running.get(name) != claimed.get(name):
                ok = False
            if (count, total % _MOD) != want:
                ok = False
    if not ok:
        check_open(conn, signer=signer, mac=mac)
        raise StoreTampered("the store does not match its signed checkpoint",
                            details={"rule": "R15"})


def _head_ok(conn: Connection, signer: Signer, mac: RowMac, signed: Checkpoint | None) -> bool:
    count, last, untagged = conn.execute(
        "SELECT count(*), coalesce(max(seq), 0), count(*) - count(mac) "
        "FROM audit_events").fetchone()
    if signed is None:
        return int(count) == 0
    if not (signed.state is not None and int(untagged) == 0 and int(count) == int(last)
            == signed.seq and checkpoint_signed(signed, public_key=signer.public_key,
                                                key_id=signer.key_id)):
        return False
    if signed.seq == 0:
        return True
    row = conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)}, mac FROM audit_events "
                       "WHERE seq = ?", (signed.seq,)).fetchone()
    return (row is not None and row[9] == signed.head
            and bool(audit_row_valid(mac)(tuple(row))))


def _verify_log(conn: Connection, signer: Signer, mac: RowMac,
                signed: Checkpoint | None, *, accept_v1: bool = False,
                tags: bool = True) -> ChainReport:
    return verify_chain(_audit_rows(conn), signed, public_key=signer.public_key,
                        key_id=signer.key_id, row_valid=audit_row_valid(mac) if tags else None,
                        accept_v1=accept_v1)


def verify_store(conn: Connection, *, signer: Signer, mac: RowMac) -> ChainReport:
    """Every audit entry against the chain, its tag and the signed checkpoint, then every
    template and consent row and the tables' signed state, in one read snapshot.

    Raises:
        AuditChainBroken, StoreTampered: the first bad entry or row.
    """
    with snapshot(conn):
        _first_legacy(conn)
        signed = checkpoint(conn)
        report = _verify_log(conn, signer, mac, signed)
        _check_tables(conn, mac, signed)
    return report


def verify_old_log(conn: Connection, *, signer: Signer) -> ChainReport:
    """The log of a store an older facegate wrote: chain and v1 checkpoint, no tags (for
    ``facegate store upgrade`` only).

    Raises:
        AuditChainBroken: the first bad entry.
    """
    with snapshot(conn):
        return verify_chain(_audit_rows(conn), checkpoint(conn), public_key=signer.public_key,
                            key_id=signer.key_id, accept_v1=True)


def _build_subject_digests(conn: Connection, mac: RowMac) -> None:
    """Each subject's consent count and tag sum, from its (just tagged) events."""
    sums: dict[str, tuple[int, int]] = {}
    for subject, tag in conn.execute("SELECT subject_id, mac FROM consent_events"):
        count, total = sums.get(str(subject), (0, 0))
        sums[str(subject)] = (count + 1, total + _tag_value(tag))
    conn.executemany("INSERT INTO subject_digests (subject_id, consents, consent_sum) "
                     "VALUES (?, ?, ?)", [(s, c, f"{t % _MOD:064x}")
                                          for s, (c, t) in sorted(sums.items())])


def tag_all(conn: Connection, mac: RowMac) -> dict[str, int]:
    """Tag every template, consent event and audit entry as it stands and set the tables'
    state (``facegate store upgrade`` only, after it has verified them); how many rows."""
    counts: dict[str, int] = {}
    conn.execute("DELETE FROM subject_digests")
    for name, spec in TABLES.items():
        if name == "subject_digests":  # after the consent events: their tags are summed
            _build_subject_digests(conn, mac)
        total = count = 0
        rows = conn.execute(f"SELECT {spec.select} FROM {name} ORDER BY {spec.key}").fetchall()
        for row in rows:
            tag = mac.tag(row_message(name, tuple(row)))
            conn.execute(f"UPDATE {name} SET mac = ? WHERE {spec.key} = ?", (tag, row[0]))
            total, count = total + int(tag, 16), count + 1
        conn.execute("INSERT INTO row_digests (name, row_count, digest) VALUES (?, ?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET row_count = excluded.row_count, "
                     "digest = excluded.digest", (name, count, f"{total % _MOD:064x}"))
        counts[name] = count
    rows = conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_events "
                        "ORDER BY seq").fetchall()
    for row in rows:
        conn.execute("UPDATE audit_events SET mac = ? WHERE seq = ?",
                     (mac.tag(row_message("audit_events", tuple(row))), row[0]))
    counts["audit_events"] = len(rows)
    return counts

