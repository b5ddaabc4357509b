"""The audit log's hash chain and signed checkpoint, as pure functions.

Each entry's hash is ``SHA-256(b"facegate.audit.v1\\x00" || previous hash ||
canonical JSON of the entry)``, where the canonical JSON is the entry's
fields (seq, at, name, operator, purpose, subject, outcome, rule, detail as
stored) with sorted keys and no spaces; the first entry chains from 32 zero
bytes. Each entry also carries an HMAC tag of the whole row under a key the store
never holds (:class:`~facegate.crypto.keyring.RowMac`), so an entry edited, renumbered
or re-chained by someone without the key file is named even when the hashes after
it were recomputed. The head (last seq and its hash) is signed with Ed25519 over
``b"facegate.audit-checkpoint.v2\\x00" || seq || head || SHA-256(state)``, where
``state`` names each protected table's row count and tag sum (see
:mod:`facegate.audit.integrity`): editing, deleting or reordering an entry breaks
the chain at that entry, and removing entries from the end leaves the signed
checkpoint naming an entry that is gone. A store written before the tags has
``v1`` checkpoints (no state), read only by ``facegate store upgrade``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
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
    "checkpoint_signed",
    "entry_hash",
    "is_hex_digest",
    "verify_chain",
]

#: The "previous hash" of the first entry.
GENESIS: Final = "00" * 32
_ENTRY: Final = b"facegate.audit.v1\x00"
_CHECKPOINT_V1: Final = b"facegate.audit-checkpoint.v1\x00"
_CHECKPOINT: Final = b"facegate.audit-checkpoint.v2\x00"
_HEX: Final = frozenset("0123456789abcdef")

#: ``(seq, at, name, operator, purpose_key, subject_id, outcome, rule, detail, hash)``
EntryRow = tuple[int, str, str, str, str | None, str | None, str, str | None, str, str | None]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The signed head of the chain; ``state`` is ``None`` on a v1 checkpoint.

    ``well_formed`` is false when a stored value had the wrong type or shape (a seq
    that is no count, a head that is not 64 hex digits): such a checkpoint is forged.
    """

    seq: int
    head: str
    key_id: str
    signature: bytes
    signed_at: str
    state: str | None = None
    well_formed: bool = True

    @staticmethod
    def from_row(row: Sequence[object]) -> Checkpoint:
        """A checkpoint from its stored ``(seq, head, key_id, signature, signed_at, state)``,
        whatever the types found there."""
        seq, head, key_id, signature, signed_at, state = row
        ok = (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
              and is_hex_digest(head) and isinstance(key_id, str)
              and isinstance(signature, bytes | memoryview) and isinstance(signed_at, str)
              and (state is None or isinstance(state, str)))
        if not ok:
            return Checkpoint(seq=-1, head="", key_id="", signature=b"", signed_at="",
                              well_formed=False)
        assert isinstance(seq, int) and isinstance(head, str) and isinstance(key_id, str)
        assert isinstance(signed_at, str) and isinstance(signature, bytes | memoryview)
        return Checkpoint(seq=seq, head=head, key_id=key_id, signature=bytes(signature),
                          signed_at=signed_at, state=state if isinstance(state, str) else None)


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


def is_hex_digest(value: object) -> bool:
    """Whether ``value`` is a SHA-256 digest as stored: 64 lower-case hex digits."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def entry_hash(prev: str, row: EntryRow) -> str:
    """The hash of ``row`` chained after ``prev`` (hex)."""
    return hashlib.sha256(_ENTRY + bytes.fromhex(prev) + _canonical(row)).hexdigest()


def checkpoint_message(seq: int, head: str, state: str | None = None) -> bytes:
    """The bytes a checkpoint signs: v2 with the tables' ``state``, v1 without it."""
    if state is None:
        return _CHECKPOINT_V1 + seq.to_bytes(8, "big") + bytes.fromhex(head)
    return (_CHECKPOINT + seq.to_bytes(8, "big") + bytes.fromhex(head)
            + hashlib.sha256(state.encode()).digest())


def checkpoint_signed(checkpoint: Checkpoint, *, public_key: bytes, key_id: str) -> bool:
    """Whether the checkpoint is well formed and signed by the deployment's audit key."""
    if not checkpoint.well_formed or checkpoint.key_id != key_id:
        return False
    try:
        message = checkpoint_message(checkpoint.seq, checkpoint.head, checkpoint.state)
    except (ValueError, OverflowError):
        return False
    return signature_valid(public_key, checkpoint.signature, message)


def _broken(seq: int, message: str) -> AuditChainBroken:
    return AuditChainBroken(message, details={"seq": seq, "rule": "R15"})


def _entry_ok(prev: str, row: Sequence[object],
              row_valid: Callable[[Sequence[object]], bool] | None) -> bool:
    """Whether a stored row chains after ``prev`` and carries its tag; any value of the
    wrong type (a field retyped to a blob or a number) is simply not ok."""
    try:
        if row[9] != entry_hash(prev, row[:10]):  # type: ignore[arg-type]
            return False
    except (TypeError, ValueError, UnicodeError):
        return False
    return row_valid is None or row_valid(row)


def verify_chain(rows: Iterable[Sequence[object]], checkpoint: Checkpoint | None, *,
                 public_key: bytes, key_id: str,
                 row_valid: Callable[[Sequence[object]], bool] | None = None,
                 accept_v1: bool = False) -> ChainReport:
    """Check every entry, in seq order, and the signed checkpoint.

    Args:
        rows: ``(seq, at, name, operator, purpose, subject, outcome, rule, detail, hash,
            mac)`` in seq order, as stored (any types).
        row_valid: checks an entry's tag; ``None`` checks hashes only (an old log).
        accept_v1: a v1 checkpoint (no table state) is acceptable (only when upgrading).

    Raises:
        AuditChainBroken: ``details.seq`` is the first broken entry.
    """
    prev, expected = GENESIS, 1
    for row in rows:
        seq = row[0]
        if not isinstance(seq, int) or seq > expected:
            raise _broken(expected, f"audit entry {expected} is missing")
        if seq < expected:
            raise _broken(seq, f"audit entry {seq} is out of order")
        if not _entry_ok(prev, row, row_valid):
            raise _broken(seq, f"audit entry {seq} was altered, moved or reordered")
        prev, expected = str(row[9]), expected + 1
    last = expected - 1
    if checkpoint is None:
        if last:
            raise _broken(last, f"audit entry {last} does not match the signed checkpoint: "
                                f"the log has {last} entries but no signed checkpoint")
        return ChainReport(entries=0, head=GENESIS, checkpoint_seq=0)
    if not checkpoint_signed(checkpoint, public_key=public_key, key_id=key_id) or (
            checkpoint.state is None and not accept_v1):
        at = max(last, 1)
        raise _broken(at, f"audit entry {at} does not match the signed checkpoint: the "
                          "checkpoint is not signed by this deployment's audit key")
    if checkpoint.seq > last:
        raise _broken(last + 1, f"the log is truncated: audit entry {last + 1} and those "
                                f"after it are missing (the signed checkpoint names entry "
                                f"{checkpoint.seq})")
    if checkpoint.seq < last:
        raise _broken(checkpoint.seq + 1, f"entries after {checkpoint.seq} were not "
                                          "checkpointed by facegate")
    if checkpoint.head != prev:
        raise _broken(last, f"audit entry {last} does not match the signed checkpoint")
    return ChainReport(entries=last, head=prev, checkpoint_seq=checkpoint.seq)
