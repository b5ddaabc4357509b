"""Which engine facegate uses when none is given.

The ONNX engine (:class:`~facegate.engine.onnx_engine.OnnxEngine`) is the
default: it gives the same boxes, landmarks and descriptors as the dlib engine
(see ``bench/parity.py``) several times faster, and needs no dlib. The dlib
engine stays selectable, and is used when onnxruntime is not installed.
"""

from __future__ import annotations

from .base import Engine
from .dlib_engine import DlibEngine
from .onnx_engine import OnnxEngine, onnx_available

__all__ = ["default_engine"]


def default_engine() -> Engine:
    """A new default engine; its models load on first use."""
    if onnx_available():
        return OnnxEngine()
    return DlibEngine()
