"""Converted models are cached once, by the model file's hash, in the user cache folder."""

from __future__ import annotations

from pathlib import Path

from facegate.engine.model_cache import cache_dir, cached_file, file_sha256


def test_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "facegate"
    assert cache_dir({}) == Path.home() / ".cache" / "facegate"


def test_conversion_runs_once_and_is_keyed_by_content(tmp_path: Path) -> None:
    source = tmp_path / "model.dat"
    source.write_bytes(b"first")
    calls: list[Path] = []

    def convert(path: Path) -> bytes:
        calls.append(path)
        return path.read_bytes().upper()

    folder = tmp_path / "cache"
    first = cached_file(source, ".onnx", convert, folder=folder)
    again = cached_file(source, ".onnx", convert, folder=folder)
    assert first == again and first.read_bytes() == b"FIRST" and len(calls) == 1
    assert file_sha256(source)[:24] in first.name
    source.write_bytes(b"second")
    changed = cached_file(source, ".onnx", convert, folder=folder)
    assert changed != first and changed.read_bytes() == b"SECOND" and len(calls) == 2
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
