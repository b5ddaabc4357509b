"""Model packs: which files make descriptors, and how they are to be compared.

A pack fixes everything that makes its descriptors comparable with each other
and with nothing else: the networks, the alignment template, the input size,
the descriptor size and the distance. Every descriptor names its pack and
version, and a gallery never mixes packs.

The shipped default threshold of a pack comes from a documented calibration
(``threshold_source``); it is a named setting, never a magic number in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..errors import ModelPackUnknown

__all__ = ["DEFAULT_PACK", "PACKS", "Distance", "ModelPack", "get_pack"]


class Distance(StrEnum):
    """How two descriptors of a pack are compared (on unit-length vectors)."""

    EUCLIDEAN = "euclidean"


@dataclass(frozen=True, slots=True)
class ModelPack:
    """The published facts about one model pack.

    Args:
        id: stable pack name, stored with every descriptor.
        version: the pack's version; changes whenever descriptors would.
        descriptor_size: length of the descriptor vector.
        distance: how descriptors are compared.
        chip_size: side of the aligned face chip fed to the descriptor network.
        chip_padding: margin around the landmarks' span in the chip, as a share.
        view_paddings: the chip paddings whose descriptors (each with its mirror
            image) are averaged into one descriptor; a fixed test-time
            augmentation that is part of what the pack's descriptors mean.
        alignment: the alignment template.
        default_threshold: distance at or below which two faces are the same person.
        threshold_source: where ``default_threshold`` comes from.
        licence: the licence of the model files as published.
        provenance: where the model files come from and what they were trained on.
    """

    id: str
    version: str
    descriptor_size: int
    distance: Distance
    chip_size: int
    chip_padding: float
    view_paddings: tuple[float, ...]
    alignment: str
    default_threshold: float
    threshold_source: str
    licence: str
    provenance: str


DLIB_RESNET_V1: Final = ModelPack(
    id="dlib-resnet-v1",
    version="1.0",
    descriptor_size=128,
    distance=Distance.EUCLIDEAN,
    chip_size=150,
    chip_padding=0.25,
    view_paddings=(0.25, 0.20, 0.30),
    alignment="dlib 5-point similarity transform (dlib.get_face_chip)",
    default_threshold=0.364,
    threshold_source=(
        "LFW View 1 pairsDevTrain: at most 1 of its 1,100 different-person pairs accepted "
        "(FMR <= 0.001; bench/lfw.py); LFW-derived, not calibrated for any other population"
    ),
    licence="CC0 / public domain (dlib models by Davis King, shipped by face_recognition_models)",
    provenance=(
        "dlib_face_recognition_resnet_model_v1.dat from the face_recognition_models 0.3.0 "
        "package on PyPI; a 29-layer ResNet trained by Davis King on about 3 million faces "
        "(VGGFace2-like web scrapes and face scrub), published at 99.38% on LFW View 2"
    ),
)

PACKS: Final = MappingProxyType({DLIB_RESNET_V1.id: DLIB_RESNET_V1})
DEFAULT_PACK: Final = DLIB_RESNET_V1.id


def get_pack(pack_id: str) -> ModelPack:
    """Return the pack named ``pack_id``.

    Raises:
        ModelPackUnknown: no such pack exists.
    """
    try:
        return PACKS[pack_id]
    except KeyError:
        raise ModelPackUnknown(
            f"unknown model pack {pack_id!r}; known packs: {', '.join(sorted(PACKS))}",
            details={"pack": pack_id, "known": sorted(PACKS)},
        ) from None
