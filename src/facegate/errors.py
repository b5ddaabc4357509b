"""Typed errors with stable dotted codes.

Every failure facegate reports is an instance of :class:`Error`. Each class
carries a stable ``code`` (the same in the library, the CLI, logs and, later,
the API) and the HTTP status an adapter should answer with. Callers catch the
class; machines read the code.

The hierarchy::

    Error                         (code "error")
    ├── ImageError                image input could not be used
    │   ├── ImageEmpty            image.empty
    │   ├── ImageUndecodable      image.undecodable
    │   ├── ImageUnsupported      image.unsupported_format
    │   ├── ImageTooLarge         image.too_large
    │   ├── ImageInvalidArray     image.invalid_array
    │   └── ImageNotFound         image.not_found
    ├── FaceError                 the image holds no usable face
    │   ├── NoFaceFound           face.not_found
    │   ├── MultipleFaces         face.multiple
    │   └── FaceQualityTooLow     face.quality
    ├── ModelError                a model pack cannot be used
    │   ├── ModelPackUnknown      model.unknown
    │   ├── ModelPackMissing      model.missing
    │   ├── DescriptorMismatch    model.mismatch
    │   └── ModelFormatError      model.invalid_format
    └── InvalidArgument           argument.invalid
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "DescriptorMismatch",
    "Error",
    "FaceError",
    "FaceQualityTooLow",
    "ImageEmpty",
    "ImageError",
    "ImageInvalidArray",
    "ImageNotFound",
    "ImageTooLarge",
    "ImageUndecodable",
    "ImageUnsupported",
    "InvalidArgument",
    "ModelError",
    "ModelFormatError",
    "ModelPackMissing",
    "ModelPackUnknown",
    "MultipleFaces",
    "NoFaceFound",
    "all_error_classes",
]


class Error(Exception):
    """Base of every facegate error.

    Args:
        message: one human-readable line.
        details: machine-readable context (never biometric data).
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of an error: code, message, details."""
        return {"code": self.code, "message": self.message, "details": self.details}


class ImageError(Error):
    code = "image.invalid"
    http_status = 422


class ImageEmpty(ImageError):
    code = "image.empty"


class ImageUndecodable(ImageError):
    code = "image.undecodable"


class ImageUnsupported(ImageError):
    code = "image.unsupported_format"
    http_status = 415


class ImageTooLarge(ImageError):
    code = "image.too_large"
    http_status = 413


class ImageInvalidArray(ImageError):
    code = "image.invalid_array"


class ImageNotFound(ImageError):
    code = "image.not_found"
    http_status = 404


class FaceError(Error):
    code = "face.invalid"
    http_status = 422


class NoFaceFound(FaceError):
    code = "face.not_found"


class MultipleFaces(FaceError):
    code = "face.multiple"


class FaceQualityTooLow(FaceError):
    code = "face.quality"


class ModelError(Error):
    code = "model.error"
    http_status = 500


class ModelPackUnknown(ModelError):
    code = "model.unknown"
    http_status = 400


class ModelPackMissing(ModelError):
    code = "model.missing"
    http_status = 503


class DescriptorMismatch(ModelError):
    code = "model.mismatch"
    http_status = 422


class ModelFormatError(ModelError):
    code = "model.invalid_format"
    http_status = 500


class InvalidArgument(Error):
    code = "argument.invalid"
    http_status = 400


def all_error_classes() -> list[type[Error]]:
    """Every concrete error class, for documentation and its test."""
    seen: list[type[Error]] = []
    stack: list[type[Error]] = [Error]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.code)
