"""The public library API: ``facegate.__all__`` is pinned, every public name at the
root is in it, and the package root holds only the library's modules and packages."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import facegate

EXPORTED = [
    "DEFAULT_PACK", "AnalyzerSettings", "Box", "Comparison", "Deployment", "Descriptor",
    "DetectOptions", "DetectorChoice", "DetectorKind", "Engine", "Error", "Face",
    "FaceAnalyzer", "Image", "ImageLimits", "LandmarkScheme", "Landmarks", "ModelPack",
    "QualityIssue", "QualityReason", "QualityReport", "QualitySettings", "__version__",
    "compare_descriptors", "descriptor_distance", "get_pack", "load_image",
]

#: The modules at the package root: the stateless library and what it is built on.
ROOT_MODULES = {"__init__", "analysis", "clock", "comparison", "errors", "images",
                "jurisdictions", "quality", "texts"}


def test_all_is_pinned() -> None:
    assert facegate.__all__ == EXPORTED


def test_every_public_name_at_the_root_is_exported() -> None:
    public = {name for name, value in vars(facegate).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)
              and name != "annotations"}  # from __future__
    assert public | {"__version__"} == set(facegate.__all__)


def test_the_root_holds_only_the_library_modules_and_packages() -> None:
    root = Path(facegate.__file__).parent
    assert {p.stem for p in root.glob("*.py")} == ROOT_MODULES
