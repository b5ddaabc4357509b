"""Which pack and engine facegate uses when none is given.

The default pack is not a constant: it is the best-measured installed pack for
the population served (:func:`~facegate.engine.selection.best_pack`): of the
shipped packs whose files are here, the one with the lowest false-non-match rate at its shipped
calibration for that population (each calibration is set for the same
false-match rate, 0.1%). ``dlib-resnet-v1`` comes with the Python install and
is the fallback (``DEFAULT_PACK``); ``faceplugin-arcface-v1``, once installed,
measures better on both shipped populations.

For the dlib pack the ONNX engine (:class:`~facegate.engine.onnx_engine.OnnxEngine`)
runs: it gives the same boxes, landmarks and descriptors as the dlib engine
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
from .selection import best_pack

__all__ = ["default_engine", "engine_for_pack"]


def default_engine(population: str | None = None) -> Engine:
    """A new engine for the best-measured installed pack for ``population``
    (:func:`~facegate.engine.selection.best_pack`); its models load on first use."""
    return engine_for_pack(best_pack(population))


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
