"""Which engine facegate uses when none is given.

The ONNX engine (:class:`~facegate.engine.onnx_engine.OnnxEngine`) is the
default: it gives the same boxes, landmarks and descriptors as the dlib engine
(see ``bench/parity.py``) several times faster, and needs no dlib. The dlib
engine stays selectable, and is used when onnxruntime is not installed.
"""

from __future__ import annotations

from pathlib import Path

from .arcface_engine import ArcfaceEngine
from .base import Engine
from .dlib_engine import DlibEngine
from .onnx_engine import OnnxEngine, onnx_available
from .pack_install import find_pack
from .packs import DEFAULT_PACK, PackKind

__all__ = ["default_engine", "engine_for_pack"]


def default_engine() -> Engine:
    """A new default engine; its models load on first use."""
    if onnx_available():
        return OnnxEngine()
    return DlibEngine()


def engine_for_pack(pack_id: str = DEFAULT_PACK, *, threads: int | None = None,
                    cache_dir: Path | None = None) -> Engine:
    """A new engine for the pack ``pack_id``; its models load on first use.

    Raises:
        ModelPackUnknown: no such pack.
    """
    pack = find_pack(pack_id, cache_dir)
    if pack.kind is PackKind.ARCFACE:
        return ArcfaceEngine(pack, cache_dir=cache_dir, threads=threads)
    if onnx_available():
        return OnnxEngine(threads=threads)
    return DlibEngine()
