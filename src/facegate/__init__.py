"""facegate: face recognition that keeps the law by construction.

The public library API. Everything listed in ``__all__`` is stable; anything
else may change.
"""

from __future__ import annotations

from .analysis import AnalyzerSettings, FaceAnalyzer
from .comparison import Comparison, compare_descriptors, descriptor_distance
from .deployment import Deployment
from .engine.base import DetectOptions, DetectorChoice, Engine
from .engine.faces import Box, Descriptor, DetectorKind, Face, Landmarks, LandmarkScheme
from .engine.packs import DEFAULT_PACK, ModelPack, get_pack
from .errors import Error
from .images import Image, ImageLimits, load_image
from .quality import QualityIssue, QualityReason, QualityReport, QualitySettings

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PACK",
    "AnalyzerSettings",
    "Box",
    "Comparison",
    "Deployment",
    "Descriptor",
    "DetectOptions",
    "DetectorChoice",
    "DetectorKind",
    "Engine",
    "Error",
    "Face",
    "FaceAnalyzer",
    "Image",
    "ImageLimits",
    "LandmarkScheme",
    "Landmarks",
    "ModelPack",
    "QualityIssue",
    "QualityReason",
    "QualityReport",
    "QualitySettings",
    "__version__",
    "compare_descriptors",
    "descriptor_distance",
    "get_pack",
    "load_image",
]
