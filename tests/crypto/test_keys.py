"""Envelopes, key rings and the key file (R16)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facegate.crypto.envelope import associated_data, new_key, open_sealed, seal
from facegate.crypto.keyfile import KeyStore
from facegate.crypto.keyring import KeyRing, Signer, signature_valid
from facegate.errors import CryptoInvalid, KeyFileInsecure, KeyMissing


def test_r16_a_sealed_blob_opens_only_with_its_key_and_associated_data() -> None:
    key = new_key()
    ad = associated_data("template", "t_1", "s_alice", "access.office", "dlib", "1.0")
    blob = seal(key, b"descriptor", ad)
    assert open_sealed(key, blob, ad) == b"descriptor"
    assert b"descriptor" not in blob
    moved = associated_data("template", "t_1", "s_bob", "access.office", "dlib", "1.0")
    altered = blob[:-1] + bytes([blob[-1] ^ 1])
    for k, b, a in ((new_key(), blob, ad), (key, blob, moved), (key, altered, ad),
                    (key, blob[:10], ad)):
        with pytest.raises(CryptoInvalid) as exc:
            open_sealed(k, b, a)
        assert exc.value.message == "the sealed data cannot be opened"  # one opaque error
    with pytest.raises(CryptoInvalid):
        associated_data("template", "a\x00b")


def test_r16_data_keys_are_bound_to_their_subject_and_kek() -> None:
    ring = KeyRing.of(new_key())
    key, kek, wrapped = ring.new_data_key(subject_id="s_alice")
    assert ring.unwrap(wrapped, kek=kek, subject_id="s_alice") == key
    with pytest.raises(CryptoInvalid):
        ring.unwrap(wrapped, kek=kek, subject_id="s_bob")
    with pytest.raises(KeyMissing):
        KeyRing.of(new_key()).unwrap(wrapped, kek=kek, subject_id="s_alice")


def test_r16_the_key_file_is_private_and_rotation_retires_the_old_key(tmp_path: Path) -> None:
    path = tmp_path / "store.db.keys"
    with pytest.raises(KeyMissing):
        KeyStore.open(path, environ={}, create=False)
    store = KeyStore.open(path, environ={}, create=True)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    first = store.ring.active
    assert KeyStore.open(path, environ={}, create=False).ring.active == first
    store.stage_rotation()
    assert set(KeyStore.open(path, environ={}, create=False).ring.keks) == {
        first, store.ring.active}  # a crash now loses nothing
    assert store.retire(keep=set()) == [first]
    assert set(KeyStore.open(path, environ={}, create=False).ring.keks) == {store.ring.active}
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileInsecure):
        KeyStore.open(path, environ={}, create=False)


def test_r15_checkpoint_signatures() -> None:
    signer = Signer(new_key())
    sig = signer.sign(b"head")
    assert signature_valid(signer.public_key, sig, b"head")
    assert not signature_valid(signer.public_key, sig, b"head2")
    assert not signature_valid(Signer(new_key()).public_key, sig, b"head")
