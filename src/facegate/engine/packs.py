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

__all__ = [
    "DEFAULT_PACK", "DLIB_RESNET_V1", "FACEPLUGIN_ARCFACE_V1", "PACKS", "Distance", "ModelPack",
    "NpmSource", "PackFile", "PackKind", "get_pack",
]


class Distance(StrEnum):
    """The measure a pack's descriptors were published with.

    facegate always compares unit-length vectors by Euclidean distance ``d``;
    for a cosine pack the cosine similarity is ``1 - d**2 / 2``, so both make
    the same decisions and a threshold can be given in either form.
    """

    EUCLIDEAN = "euclidean"
    COSINE = "cosine"


class PackKind(StrEnum):
    """Which pipeline runs a pack."""

    DLIB = "dlib"
    """dlib's ResNet on 150x150 dlib chips (``OnnxEngine`` or ``DlibEngine``)."""
    ARCFACE = "arcface"
    """An ArcFace-style ONNX network on 112x112 five-point chips (``ArcfaceEngine``)."""


@dataclass(frozen=True, slots=True)
class PackFile:
    """One model file of a pack, pinned by its SHA-256.

    Args:
        role: what the file is for (``descriptor``, ``liveness``, ``detector``,
            ``landmarks``).
        name: the file's name in the installed pack folder.
        sha256: the pinned hash; an install with any other content is refused.
        source_path: where the file sits in the published package.
    """

    role: str
    name: str
    sha256: str
    source_path: str


@dataclass(frozen=True, slots=True)
class NpmSource:
    """A pack published as an npm package, pinned by exact version and tarball hash."""

    package: str
    version: str
    tarball_sha256: str
    integrity: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


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
        kind: which pipeline runs the pack.
        normalisation: ``(mean, scale)``: a chip pixel ``x`` enters the network
            as ``(x - mean) / scale`` (ArcFace-style packs).
        colour_order: channel order the network expects.
        files: the pinned model files of an installable pack (empty for a pack
            whose files come with the Python install).
        source: where ``facegate models install`` obtains an installable pack.
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
    kind: PackKind = PackKind.DLIB
    normalisation: tuple[float, float] = (0.0, 1.0)
    colour_order: str = "rgb"
    files: tuple[PackFile, ...] = ()
    source: NpmSource | None = None

    @property
    def installable(self) -> bool:
        """Whether the pack's files must be installed with ``facegate models install``."""
        return bool(self.files)

    def file(self, role: str) -> PackFile:
        """The pack file with ``role``."""
        for entry in self.files:
            if entry.role == role:
                return entry
        raise KeyError(role)


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


FACEPLUGIN_ARCFACE_V1: Final = ModelPack(
    id="faceplugin-arcface-v1",
    version="1.0",
    descriptor_size=512,
    distance=Distance.COSINE,
    chip_size=112,
    chip_padding=0.0,
    view_paddings=(),
    alignment="ArcFace five-point template on 112x112 (eye centres, nose tip, mouth corners)",
    default_threshold=1.127,
    threshold_source=(
        "LFW View 1 pairsDevTrain: at most 1 of its 1,100 different-person pairs accepted "
        "(FMR <= 0.001; bench/lfw.py --pack faceplugin-arcface-v1, with the pack's own "
        "detector and landmarks; cosine similarity 0.365); LFW-derived, not calibrated for "
        "any other population"
    ),
    licence="MIT, as published by the vendor in the npm package (no separate model licence)",
    provenance=(
        "model/fr_feature.onnx from the npm package faceplugin-face-recognition-js 0.0.1 "
        "(Faceplugin Ltd); an ArcFace-style network with a 512-d output. The training data "
        "and its provenance are not disclosed by the vendor"
    ),
    kind=PackKind.ARCFACE,
    normalisation=(127.0, 128.0),
    colour_order="bgr",
    files=(
        PackFile("descriptor", "fr_feature.onnx",
                 "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
                 "package/model/fr_feature.onnx"),
        PackFile("liveness", "fr_liveness.onnx",
                 "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
                 "package/model/fr_liveness.onnx"),
        PackFile("detector", "fr_detect.onnx",
                 "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854",
                 "package/model/fr_detect.onnx"),
        PackFile("landmarks", "fr_landmark.onnx",
                 "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258",
                 "package/model/fr_landmark.onnx"),
    ),
    source=NpmSource(
        package="faceplugin-face-recognition-js",
        version="0.0.1",
        tarball_sha256="7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba",
        integrity=("sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN"
                   "+3C2iOi5pXWw=="),
    ),
)

PACKS: Final = MappingProxyType({DLIB_RESNET_V1.id: DLIB_RESNET_V1,
                                 FACEPLUGIN_ARCFACE_V1.id: FACEPLUGIN_ARCFACE_V1})
#: The always-available fallback: the pack that comes with the Python install. The pack
#: that runs when none is named is the best-measured installed one for the population
#: served (``facegate.engine.selection.best_pack``), this one only when no other is installed.
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
