"""AES-256-GCM envelopes: seal and open bytes bound to their associated data.

A sealed blob is ``version (1 byte, 0x01) || nonce (12 bytes) || ciphertext
|| tag (16 bytes)``. The associated data is not stored: the caller rebuilds it
from the row (template uid, subject, purpose, pack and version), so a blob
moved to another row, subject or purpose no longer opens. Every failure is the
one opaque :class:`~facegate.errors.CryptoInvalid` (no oracle).

Data keys are wrapped the same way under a key-encryption key, with the
subject id and the key-encryption key's id as associated data.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import CryptoInvalid

__all__ = ["KEY_BYTES", "associated_data", "new_key", "open_sealed", "seal"]

#: AES-256: every data key and key-encryption key is 32 bytes.
KEY_BYTES: Final = 32
_VERSION: Final = b"\x01"
_NONCE: Final = 12


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def associated_data(domain: str, *fields: str) -> bytes:
    """Domain-separated associated data: ``facegate.<domain>.v1`` and the fields, NUL-joined."""
    for f in fields:
        if "\x00" in f:
            raise CryptoInvalid("associated data fields cannot hold NUL")
    return "\x00".join((f"facegate.{domain}.v1", *fields)).encode()


def seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``key``, bound to ``ad``."""
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def open_sealed(key: bytes, blob: bytes, ad: bytes) -> bytes:
    """The plaintext of ``blob``.

    Raises:
        CryptoInvalid: wrong key, wrong associated data, or altered bytes.
    """
    if len(key) != KEY_BYTES or len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
        raise CryptoInvalid("the sealed data cannot be opened")
    try:
        return AESGCM(key).decrypt(blob[1:1 + _NONCE], blob[1 + _NONCE:], ad)
    except InvalidTag:
        raise CryptoInvalid("the sealed data cannot be opened") from None
