"""Key-encryption keys with ids, the data keys they wrap, and the audit signing key.

A :class:`KeyRing` holds one or more key-encryption keys (KEKs) by id and
names the active one. New data keys are wrapped under the active KEK; a
wrapped key names the KEK that wrapped it, so rotation (re-wrapping every
data key under a new KEK) needs no re-enrollment. A KEK's id is a
fingerprint of the key itself, so the same key from a file or from the
environment has the same id.

The audit log's checkpoints are signed with Ed25519 (:class:`Signer`);
:func:`signature_valid` checks a signature against a public key. Every protected
row (template, consent event, audit entry) carries an HMAC-SHA256 tag
(:class:`RowMac`) under a key derived from the same seed, so a row written or
changed by someone without the key file does not verify.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import CryptoInvalid, KeyMissing
from .envelope import KEY_BYTES, associated_data, new_key, open_sealed, seal

__all__ = ["KeyRing", "RowMac", "Signer", "kek_id", "new_signing_seed", "signature_valid"]


def kek_id(key: bytes) -> str:
    """The id of a key-encryption key: 16 hex digits of a domain-separated SHA-256."""
    if len(key) != KEY_BYTES:
        raise CryptoInvalid("a key-encryption key is 32 bytes")
    return hashlib.sha256(b"facegate.kek-id.v1\x00" + key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Key-encryption keys by id; ``active`` wraps new data keys.

    Raises:
        KeyMissing: the active id is not in the ring.
    """

    active: str
    keks: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keks:
            raise KeyMissing("the active key-encryption key is not in the key ring")
        object.__setattr__(self, "keks", MappingProxyType(dict(self.keks)))

    @staticmethod
    def of(*keys: bytes) -> KeyRing:
        """A ring of ``keys``; the first is active."""
        return KeyRing(active=kek_id(keys[0]), keks={kek_id(k): k for k in keys})

    def new_data_key(self, *, subject_id: str) -> tuple[bytes, str, bytes]:
        """A fresh data key for ``subject_id``: ``(key, kek id, wrapped key)``."""
        key = new_key()
        kek, wrapped = self.wrap(key, subject_id=subject_id)
        return key, kek, wrapped

    def wrap(self, data_key: bytes, *, subject_id: str) -> tuple[str, bytes]:
        """``data_key`` wrapped under the active KEK, bound to the subject."""
        ad = associated_data("data-key", self.active, subject_id)
        return self.active, seal(self.keks[self.active], data_key, ad)

    def unwrap(self, wrapped: bytes, *, kek: str, subject_id: str) -> bytes:
        """The data key in ``wrapped``.

        Raises:
            KeyMissing: the KEK that wrapped it is not in this ring.
            CryptoInvalid: the wrapped key was altered or belongs to another subject.
        """
        if kek not in self.keks:
            raise KeyMissing(f"the key-encryption key {kek} is not in the key ring",
                             details={"kek": kek})
        return open_sealed(self.keks[kek], wrapped, associated_data("data-key", kek, subject_id))


class Signer:
    """An Ed25519 signing key for audit checkpoints, from its 32-byte seed."""

    __slots__ = ("_key", "key_id", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise CryptoInvalid("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(b"facegate.audit-key-id.v1\x00" +
                                     self.public_key).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class RowMac:
    """HMAC-SHA256 tags of protected rows, under a key derived from the audit seed.

    The key is ``SHA-256(b"facegate.row-mac.v1\\x00" || seed)``: it lives wherever the
    audit signing key lives (key file or ``FACEGATE_AUDIT_KEY``) and never in the store.
    """

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise CryptoInvalid("an Ed25519 seed is 32 bytes")
        self._key = hashlib.sha256(b"facegate.row-mac.v1\x00" + seed).digest()

    def tag(self, message: bytes) -> str:
        """The tag of ``message`` (64 hex digits)."""
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def valid(self, message: bytes, tag: object) -> bool:
        """Whether ``tag`` is ``message``'s tag (constant time; any other type is not)."""
        return isinstance(tag, str) and hmac.compare_digest(self.tag(message), tag)


def new_signing_seed() -> bytes:
    """A fresh Ed25519 seed."""
    return new_key()


def signature_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
