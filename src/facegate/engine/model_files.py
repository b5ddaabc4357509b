"""Where the dlib-resnet-v1 model files are, and loading each model once, on first use.

Both engines read the same four files of the ``face_recognition_models``
package (or of a folder given explicitly); nothing is ever downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ..errors import ModelPackMissing
from .packs import DLIB_RESNET_V1

__all__ = ["MODEL_FILES", "LazyModels", "default_models_dir", "model_file"]

MODEL_FILES: Final = {
    "cnn": "mmod_human_face_detector.dat",
    "sp5": "shape_predictor_5_face_landmarks.dat",
    "sp68": "shape_predictor_68_face_landmarks.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
}


def default_models_dir() -> Path:
    """The model folder of the installed ``face_recognition_models`` package.

    Raises:
        ModelPackMissing: the package is not installed.
    """
    try:
        import face_recognition_models
    except ImportError:
        raise ModelPackMissing(
            "the dlib-resnet-v1 model files are not installed; "
            "run: pip install face_recognition_models==0.3.0",
            details={"pack": DLIB_RESNET_V1.id},
        ) from None
    return Path(face_recognition_models.__file__).parent / "models"


def model_file(models_dir: Path | None, name: str) -> Path:
    """The path of model ``name`` (a key of :data:`MODEL_FILES`).

    Raises:
        ModelPackMissing: the file is not there.
    """
    path = (models_dir or default_models_dir()) / MODEL_FILES[name]
    if not path.is_file():
        raise ModelPackMissing(
            f"model file {path} is missing; reinstall face_recognition_models",
            details={"pack": DLIB_RESNET_V1.id, "file": MODEL_FILES[name]},
        )
    return path


class LazyModels:
    """Models by name, each loaded by ``load`` once, on first use, safely across threads."""

    def __init__(self, load: Callable[[str], Any]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._models: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        model = self._models.get(name)
        if model is not None:
            return model
        with self._lock:
            if name not in self._models:
                self._models[name] = self._load(name)
            return self._models[name]
