"""Converted models, cached under the user's cache folder by the source file's hash.

Converting a dlib file (an ONNX graph for a network, numpy arrays for a shape
predictor) takes from a fraction of a second to about ten seconds, so it is
done once: the result is written to ``$XDG_CACHE_HOME/facegate`` (or
``~/.cache/facegate``) under a name holding the SHA-256 of the ``.dat`` file and
the converter version. A changed model file or converter simply misses the
cache. Writes are atomic (a temporary file renamed into place), so two
processes converting at once cannot leave a torn file. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

__all__ = ["CONVERTER_VERSION", "cache_dir", "cached_file", "file_sha256"]

#: Bumped whenever a converter's output would change.
CONVERTER_VERSION: Final = "1"


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/facegate``, or ``~/.cache/facegate`` when it is unset."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "facegate"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_file(source: Path, suffix: str, convert: Callable[[Path], bytes], *,
                folder: Path | None = None) -> Path:
    """The cached conversion of ``source``, made with ``convert`` on a miss.

    Args:
        source: the dlib model file.
        suffix: the cached file's extension (``.onnx``, ``.npz``).
        convert: turns the source file into the cached file's bytes.
        folder: the cache folder; :func:`cache_dir` by default.
    """
    folder = folder or cache_dir()
    digest = file_sha256(source)
    target = folder / f"{source.stem}-{digest[:24]}-c{CONVERTER_VERSION}{suffix}"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    data = convert(source)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
