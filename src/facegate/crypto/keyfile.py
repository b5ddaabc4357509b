"""Where the keys live: a key file beside the store (mode 0600) or the environment.

The key file is JSON::

    {"format": "facegate.keys.v1",
     "active": "<kek id>", "keks": {"<kek id>": "<base64 32 bytes>", ...},
     "audit_signing_key": "<base64 Ed25519 seed>"}

It is written atomically (a 0600 temporary file, fsync, rename), and every
change is made under an exclusive lock on ``<key file>.lock`` after reading the
file again, so processes that share a key file (several service workers, the
CLI) never lose each other's keys. The environment overrides it:
``FACEGATE_KEK`` (base64 of 32 bytes) is then the only key-encryption key, and
``FACEGATE_AUDIT_KEY`` (base64 Ed25519 seed) the signing key. Whatever the
environment does not give is kept in the file. A key file readable by group or
others is refused.

Beside the keys lives the erasure ledger, ``<key file>.erasures`` (or the file
named by ``FACEGATE_ERASURES``): one line per erased subject, appended and
synced before the erasure commits. It is kept with the keys and not in the
store, so restoring an older copy of the store cannot bring an erased subject
back: the deployment erases every subject in the ledger again when it opens
(see ``docs/storage.md``, "Backup and restore").
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ..errors import KeyFileInsecure, KeyMissing
from .envelope import new_key
from .keyring import KeyRing, RowMac, Signer, kek_id, new_signing_seed

__all__ = ["ENV_AUDIT_KEY", "ENV_ERASURES", "ENV_KEK", "ENV_NEW_KEK", "KeyStore"]

ENV_KEK: Final = "FACEGATE_KEK"
ENV_NEW_KEK: Final = "FACEGATE_NEW_KEK"
ENV_AUDIT_KEY: Final = "FACEGATE_AUDIT_KEY"
ENV_ERASURES: Final = "FACEGATE_ERASURES"
_FORMAT: Final = "facegate.keys.v1"


def _b64(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyMissing(f"{what} is not base64", details={"key": what}) from None
    if len(raw) != 32:
        raise KeyMissing(f"{what} must be 32 bytes (base64)", details={"key": what})
    return raw


def _text(key: bytes) -> str:
    return base64.b64encode(key).decode()


class KeyStore:
    """The deployment's key ring and audit signer, and the file that keeps them.

    Open it with :meth:`open`; rotate with :meth:`stage_rotation` then
    :meth:`retire`. :attr:`ring` re-reads the file when another process
    rotated it, so a running service keeps working across ``facegate keys
    rotate`` (call it inside the transaction that uses the ring).
    """

    def __init__(self, path: Path | None, *, keks: Mapping[str, bytes], active: str, seed: bytes,
                 env_kek: bool, env_seed: bool, env_new_kek: str | None = None,
                 ledger: Path | None = None) -> None:
        self.path = path
        #: the erasure ledger (``None``: no file to keep it in)
        self.ledger = ledger
        self._mutex = threading.RLock()
        self._keks = dict(keks)
        self._active = active
        self._seed = seed
        self.env_kek = env_kek
        self._env_seed = env_seed
        self._env_new_kek = env_new_kek
        self.signer = Signer(seed)
        #: tags of protected rows, under a key derived from the audit seed
        self.rows = RowMac(seed)
        self._stamp = self._file_stamp()

    @property
    def rotates_itself(self) -> bool:
        """Whether a new KEK can be made here (the KEK is not set by the environment)."""
        return not self.env_kek

    @property
    def ring(self) -> KeyRing:
        """The current ring (a copy); re-read when another process rotated the key file."""
        with self._mutex:
            self._reload()
            return KeyRing(active=self._active, keks=dict(self._keks))

    def _reload(self) -> None:
        stamp = self._file_stamp()
        if not self.env_kek and stamp is not None and stamp != self._stamp:
            assert self.path is not None  # a stamp means a file
            data = self._read(self.path)
            keks = {str(k): _b64(str(v), f"kek {k}") for k, v in dict(data["keks"]).items()}
            if str(data.get("active")) in keks:
                self._keks, self._active = keks, str(data["active"])
            self._stamp = stamp

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold this process's mutex and the key file's lock, with the file read again."""
        with self._mutex:
            if self.path is None or self.env_kek:
                yield
                return
            with _file_lock(self.path):
                self._stamp = None
                self._reload()
                yield

    def _file_stamp(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @classmethod
    def open(cls, path: str | Path | None, *, environ: Mapping[str, str],
             create: bool) -> KeyStore:
        """Read the keys from ``environ`` and the file at ``path``.

        Args:
            path: the key file; ``None`` when both keys come from the environment
                and there is no file (a PostgreSQL store given no key file).
            create: write a new key file with fresh keys when it is absent
                (a new store); otherwise a missing file is an error.

        Raises:
            KeyMissing: the keys of an existing store are nowhere to be found, or malformed.
            KeyFileInsecure: the key file is readable by group or others.
        """
        env_kek = environ.get(ENV_KEK)
        env_seed = environ.get(ENV_AUDIT_KEY)
        if path is None:
            if not (env_kek and env_seed):
                raise KeyMissing(f"no key file: set {ENV_KEK} and {ENV_AUDIT_KEY}")
            key = _b64(env_kek, ENV_KEK)
            return cls(None, keks={kek_id(key): key}, active=kek_id(key),
                       seed=_b64(env_seed, ENV_AUDIT_KEY), env_kek=True, env_seed=True,
                       env_new_kek=environ.get(ENV_NEW_KEK), ledger=_ledger(None, environ))
        file = Path(path)
        with _file_lock(file):
            return cls._open_file(file, environ=environ, create=create)

    @classmethod
    def _open_file(cls, file: Path, *, environ: Mapping[str, str], create: bool) -> KeyStore:
        env_kek = environ.get(ENV_KEK)
        env_seed = environ.get(ENV_AUDIT_KEY)
        data: dict[str, Any] = {}
        if file.exists():
            data = cls._read(file)
        elif not create and not (env_kek and env_seed):
            raise KeyMissing(f"the key file {file} is missing; this store's templates and "
                             f"audit log need it (or set {ENV_KEK} and {ENV_AUDIT_KEY})",
                             details={"path": str(file)})
        write = not file.exists()
        if env_kek:
            key = _b64(env_kek, ENV_KEK)
            keks, active = {kek_id(key): key}, kek_id(key)
        elif data.get("keks"):
            keks = {str(k): _b64(str(v), f"kek {k}") for k, v in dict(data["keks"]).items()}
            active = str(data.get("active"))
            if active not in keks:
                raise KeyMissing(f"the key file {file} names no active key",
                                 details={"path": str(file)})
        else:
            key = new_key()
            keks, active, write = {kek_id(key): key}, kek_id(key), True
        if env_seed:
            seed = _b64(env_seed, ENV_AUDIT_KEY)
        elif data.get("audit_signing_key"):
            seed = _b64(str(data["audit_signing_key"]), "audit_signing_key")
        else:
            seed, write = new_signing_seed(), True
        store = cls(file, keks=keks, active=active, seed=seed, env_kek=bool(env_kek),
                    env_seed=bool(env_seed), env_new_kek=environ.get(ENV_NEW_KEK),
                    ledger=_ledger(file, environ))
        if write and not (env_kek and env_seed):
            store._save()
        return store

    @staticmethod
    def _read(file: Path) -> dict[str, Any]:
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            raise KeyFileInsecure(f"the key file {file} is readable by others (mode {mode:o}); "
                                  f"chmod 600 {file}", details={"path": str(file)})
        try:
            data = json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyMissing(f"cannot read the key file {file}: {exc}",
                             details={"path": str(file)}) from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise KeyMissing(f"{file} is not a facegate key file", details={"path": str(file)})
        return data

    def _save(self) -> None:
        """Write the file (callers hold :meth:`_locked`, or made the store just now)."""
        data: dict[str, Any] = {"format": _FORMAT}
        if not self.env_kek:
            data["active"] = self._active
            data["keks"] = {k: _text(v) for k, v in self._keks.items()}
        if not self._env_seed:
            data["audit_signing_key"] = _text(self._seed)
        if self.path is None:  # both keys from the environment: nothing to keep
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._stamp = self._file_stamp()
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def stage_rotation(self) -> KeyRing:
        """Add a new active KEK, keeping the old ones until :meth:`retire`; returns the ring.

        In the file, the new key is saved before any data key is re-wrapped, so a
        crash at any point leaves every data key openable. With ``FACEGATE_KEK``
        set, the new key comes from ``FACEGATE_NEW_KEK``.

        Raises:
            KeyMissing: ``FACEGATE_KEK`` is set but ``FACEGATE_NEW_KEK`` is not.
        """
        with self._locked():
            if self.env_kek:
                given = self._env_new_kek
                if not given:
                    raise KeyMissing(f"{ENV_KEK} is set: give the new key in {ENV_NEW_KEK}")
                key = _b64(given, ENV_NEW_KEK)
            else:
                key = new_key()
            self._keks[kek_id(key)] = key
            self._active = kek_id(key)
            if not self.env_kek:
                self._save()
            return KeyRing(active=self._active, keks=dict(self._keks))

    def retire(self, *, keep: set[str] | Callable[[], set[str]]) -> list[str]:
        """Destroy every KEK but the active one and those in ``keep`` (or what ``keep()``
        returns, asked while the key file is locked); returns the ids destroyed."""
        with self._locked():
            wanted = keep() if callable(keep) else keep
            gone = [k for k in self._keks if k != self._active and k not in wanted]
            for k in gone:
                del self._keks[k]
            if gone and not self.env_kek:
                self._save()
            return gone

    def adopt(self, other: str | Path) -> list[str]:
        """Add the key-encryption keys of another key file (the one kept with a store
        backup) to this one, not active, so that a restored store's data keys open; returns
        the ids added. The next rotation re-wraps everything and destroys them again.

        Raises:
            KeyMissing: ``other`` is not a key file, or the KEK comes from the environment.
            KeyFileInsecure: ``other`` is readable by group or others.
        """
        if self.env_kek or self.path is None:
            raise KeyMissing(f"{ENV_KEK} is set: the key-encryption key is not kept in a file")
        data = self._read(Path(other))
        found = {str(k): _b64(str(v), f"kek {k}") for k, v in dict(data.get("keks", {})).items()}
        with self._locked():
            added = [k for k in found if k not in self._keks]
            self._keks.update({k: found[k] for k in added})
            if added:
                self._save()
            return added

    # -- the erasure ledger ---------------------------------------------------

    def record_erasure(self, subject_id: str, at: str) -> bool:
        """Append ``subject_id`` to the erasure ledger and sync it; ``False`` when there
        is no ledger file (keys from the environment and no ``FACEGATE_ERASURES``)."""
        if self.ledger is None:
            return False
        with self._mutex:
            fd = os.open(self.ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, f"{subject_id}\t{at}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        return True

    def erased_subjects(self) -> list[str]:
        """Every subject in the erasure ledger, in the order they were erased."""
        if self.ledger is None or not self.ledger.exists():
            return []
        out = []
        for line in self.ledger.read_text("utf-8").splitlines():
            subject = line.split("\t", 1)[0].strip()
            if subject:
                out.append(subject)
        return out


@contextmanager
def _file_lock(key_file: Path) -> Iterator[None]:
    """An exclusive lock on ``<key file>.lock`` (none where that file cannot be made: a
    read-only key folder, where nothing is written either)."""
    try:
        fd = os.open(key_file.with_name(key_file.name + ".lock"), os.O_WRONLY | os.O_CREAT,
                     0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ledger(key_file: Path | None, environ: Mapping[str, str]) -> Path | None:
    """Where the erasure ledger lives: ``FACEGATE_ERASURES``, else beside the key file."""
    given = environ.get(ENV_ERASURES)
    if given:
        return Path(given)
    if key_file is None:
        return None
    return key_file.with_name(key_file.name + ".erasures")
