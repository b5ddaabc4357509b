"""The audit log's hash chain and signed checkpoint, as pure functions.

Each entry's hash is ``SHA-256(b"facegate.audit.v1\\x00" || previous hash ||
canonical JSON of the entry)``, where the canonical JSON is the entry's
fields (seq, at, name, operator, purpose, subject, outcome, rule, detail as
stored) with sorted keys and no spaces; the first entry chains from 32 zero
bytes. The head (last seq and its hash) is signed with Ed25519 over
``b"facegate.audit-checkpoint.v1\\x00" || seq || head``: editing, deleting or
reordering an entry breaks the chain at that entry, and removing entries from
the end leaves the signed checkpoint naming an entry that is gone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ..crypto.keyring import signature_valid
from ..errors import AuditChainBroken

__all__ = [
    "GENESIS",
    "ChainReport",
    "Checkpoint",
    "EntryRow",
    "checkpoint_message",
    "entry_hash",
    "verify_chain",
]

#: The "previous hash" of the first entry.
GENESIS: Final = "00" * 32
_ENTRY: Final = b"facegate.audit.v1\x00"
_CHECKPOINT: Final = b"facegate.audit-checkpoint.v1\x00"

#: ``(seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail, hash)``
EntryRow = tuple[int, str, str, str, str | None, str | None, str, str | None, str, str | None]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The signed head of the chain."""

    seq: int
    head: str
    key_id: str
    signature: bytes
    signed_at: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """A verified log: how many entries, and its head."""

    entries: int
    head: str
    checkpoint_seq: int


def _canonical(row: EntryRow) -> bytes:
    seq, at, name, operator, purpose, subject, outcome, rule, detail, _ = row
    return json.dumps({"seq": seq, "at": at, "name": name, "operator": operator,
                       "purpose": purpose, "subject": subject, "outcome": outcome,
                       "rule": rule, "detail": detail},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev: str, row: EntryRow) -> str:
    """The hash of ``row`` chained after ``prev`` (hex)."""
    return hashlib.sha256(_ENTRY + bytes.fromhex(prev) + _canonical(row)).hexdigest()


def checkpoint_message(seq: int, head: str) -> bytes:
    """The bytes a checkpoint signs."""
    return _CHECKPOINT + seq.to_bytes(8, "big") + bytes.fromhex(head)


def _broken(seq: int, message: str) -> AuditChainBroken:
    return AuditChainBroken(message, details={"seq": seq, "rule": "R15"})


def verify_chain(rows: Iterable[EntryRow], checkpoint: Checkpoint | None, *,
                 public_key: bytes, key_id: str) -> ChainReport:
    """Check every entry, in seq order, and the signed checkpoint.

    Raises:
        AuditChainBroken: ``details.seq`` is the first broken entry.
    """
    prev, expected = GENESIS, 1
    for row in rows:
        seq = int(row[0])
        if seq > expected:
            raise _broken(expected, f"audit entry {expected} is missing")
        if seq < expected:
            raise _broken(seq, f"audit entry {seq} is out of order")
        if row[9] != entry_hash(prev, row):
            raise _broken(seq, f"audit entry {seq} was altered, moved or reordered")
        prev, expected = str(row[9]), expected + 1
    last = expected - 1
    if checkpoint is None:
        if last:
            raise _broken(last, f"the log has {last} entries but no signed checkpoint")
        return ChainReport(entries=0, head=GENESIS, checkpoint_seq=0)
    if checkpoint.key_id != key_id or not signature_valid(
            public_key, checkpoint.signature, checkpoint_message(checkpoint.seq,
                                                                 checkpoint.head)):
        raise _broken(checkpoint.seq, f"the checkpoint at entry {checkpoint.seq} is not "
                                      "signed by this deployment's audit key")
    if checkpoint.seq > last:
        raise _broken(last + 1, f"the log is truncated: entries after {last} are missing "
                                f"(the signed checkpoint names entry {checkpoint.seq})")
    if checkpoint.seq < last:
        raise _broken(checkpoint.seq + 1, f"entries after {checkpoint.seq} were not "
                                          "checkpointed by facegate")
    if checkpoint.head != prev:
        raise _broken(last, f"audit entry {last} does not match the signed checkpoint")
    return ChainReport(entries=last, head=prev, checkpoint_seq=checkpoint.seq)
