"""dlib's two shipped networks, read from their ``.dat`` files into plain layer lists.

The architectures are those declared in dlib's ``face_recognition.cpp`` (the
29-convolution ResNet behind ``dlib_face_recognition_resnet_model_v1.dat``) and
``cnn_face_detector.cpp`` (the MMOD detector behind
``mmod_human_face_detector.dat``). A network file does not describe its own
wiring (see :mod:`facegate.engine.dlib_format`), so each is written here as
its list of layers from the top (the loss) down to the input, and the reader
checks every layer name it meets against it.

Batch-normalisation layers stored in training form (``bn_con2``) are folded
into per-channel scale and shift exactly as dlib's ``affine_`` constructor does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from .dlib_format import DlibReader, FloatArray

__all__ = [
    "MMOD_DETECTOR",
    "RESNET_V1",
    "Affine",
    "Conv",
    "DlibNetwork",
    "Fc",
    "InputLayer",
    "Layer",
    "MmodOptions",
    "Pool",
    "Relu",
    "Tagged",
    "read_network",
]


@dataclass(frozen=True, slots=True)
class InputLayer:
    """The input layer: per-channel means (RGB) and, for pyramids, the tile padding."""

    kind: str
    mean_rgb: tuple[float, float, float]
    size: tuple[int, int] | None = None
    pyramid_padding: int = 0
    pyramid_outer_padding: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Conv:
    weights: FloatArray  # (filters, channels, rows, cols)
    bias: FloatArray | None
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Affine:
    scale: FloatArray  # per channel
    shift: FloatArray


@dataclass(frozen=True, slots=True)
class Relu:
    pass


@dataclass(frozen=True, slots=True)
class Pool:
    """Max or average pooling; ``size`` (0, 0) means over the whole feature map."""

    mode: str
    size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Fc:
    weights: FloatArray  # (inputs, outputs)
    bias: FloatArray | None


@dataclass(frozen=True, slots=True)
class Tagged:
    """A wiring step: ``tag``/``skip`` a tagged output, or ``add`` it to the current one."""

    op: str
    tag: int


Layer = Conv | Affine | Relu | Pool | Fc | Tagged


@dataclass(frozen=True, slots=True)
class MmodOptions:
    """What the MMOD loss layer needs to turn its score map into boxes.

    Args:
        windows: (width, height) of each detector window, one per output channel.
        nms_iou: boxes overlapping a kept box by more than this (intersection
            over the area of their union's bounding box) are dropped.
        nms_covered: ... or covering more than this share of either box.
    """

    windows: tuple[tuple[int, int], ...]
    nms_iou: float
    nms_covered: float


@dataclass(frozen=True, slots=True, eq=False)
class DlibNetwork:
    """A network read from a dlib file: its input, layers bottom-up, and loss."""

    input: InputLayer
    layers: tuple[Layer, ...]
    loss: str
    mmod: MmodOptions | None = None


# -- architectures, top-down, as dlib's type declarations spell them ---------


def _block() -> list[str]:
    # BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return ["affine", "con", "relu", "affine", "con"]


def _ares() -> list[str]:
    return ["relu", "add_prev1", *_block(), "tag1"]


def _ares_down() -> list[str]:
    return ["relu", "add_prev2", "avg_pool", "skip1", "tag2", *_block(), "tag1"]


def _resnet() -> list[str]:
    levels = [
        _ares_down(),                                    # alevel0 (256)
        _ares(), _ares(), _ares_down(),                  # alevel1 (256)
        _ares(), _ares(), _ares_down(),                  # alevel2 (128)
        _ares(), _ares(), _ares(), _ares_down(),         # alevel3 (64)
        _ares(), _ares(), _ares(),                       # alevel4 (32)
    ]
    tokens = ["loss_metric", "fc", "avg_pool"]
    for level in levels:
        tokens += level
    return [*tokens, "max_pool", "relu", "affine", "con", "input"]


def _mmod() -> list[str]:
    rcon5 = ["relu", "affine", "con"]
    downsampler = ["relu", "affine", "con"] * 3
    return ["loss_mmod", "con", *rcon5, *rcon5, *rcon5, *downsampler, "input"]


RESNET_V1: Final = tuple(_resnet())
MMOD_DETECTOR: Final = tuple(_mmod())


# -- reading -------------------------------------------------------------------


def read_network(path: Path, architecture: tuple[str, ...] = RESNET_V1) -> DlibNetwork:
    """Read a dlib dnn file whose wiring is ``architecture`` (top-down tokens).

    Raises:
        ModelFormatError: the file does not hold that network.
    """
    reader = DlibReader(path.read_bytes(), name=path.name)
    loss_token, *body, input_token = architecture
    if input_token != "input":
        raise reader.fail("the architecture must end with the input layer")
    reader.version(1)
    mmod = None
    if loss_token == "loss_mmod":
        loss_name = reader.expect_string("loss_mmod_")
        mmod = _mmod_options(reader)
    else:
        loss_name = reader.expect_string("loss_metric_2", "loss_metric_")
        reader.read_float()  # margin
        if loss_name == "loss_metric_2":
            reader.read_float()  # distance threshold
    versions = []
    for index, token in enumerate(body):
        if token.startswith(("tag", "skip")):
            versions.append(reader.version(1))
        elif index == len(body) - 1:
            versions.append(reader.version(2, 3))
        else:
            versions.append(reader.version(1, 2))
    input_layer = _input(reader)
    layers: list[Layer] = []
    for index in reversed(range(len(body))):
        token = body[index]
        if token.startswith(("tag", "skip", "add_prev")):
            op = token.rstrip("0123456789")
            layers.append(Tagged(op={"add_prev": "add"}.get(op, op), tag=int(token[len(op):])))
            if op != "add_prev":
                continue
            reader.expect_string("add_prev_")
        else:
            layers.append(_layer(reader, token))
        _layer_state(reader, versions[index], bottom=index == len(body) - 1)
    if not reader.at_end():
        raise reader.fail("trailing bytes after the network")
    return DlibNetwork(input=input_layer, layers=tuple(layers), loss=loss_name, mmod=mmod)


def _mmod_options(reader: DlibReader) -> MmodOptions:
    version = reader.version(1, 2, 3, 4)
    if version == 1:
        windows = [(reader.read_int(), reader.read_int())]
    else:
        windows = []
        for _ in range(reader.read_int()):
            window_version = reader.version(1, 2)
            windows.append((reader.read_int(), reader.read_int()))
            if window_version == 2:
                reader.read_string()  # label
    reader.read_float()  # loss per false alarm
    reader.read_float()  # loss per missed target
    reader.read_float()  # truth match IoU threshold
    nms_iou, nms_covered = reader.read_float(), reader.read_float()
    reader.read_float()  # overlaps_ignore: IoU
    reader.read_float()  # overlaps_ignore: covered
    if version >= 3 and reader.read_int() != 1:
        raise reader.fail("MMOD networks without an image pyramid are not supported")
    if version >= 4 and reader.read_bool():
        raise reader.fail("MMOD bounding box regression is not supported")
    if version >= 4:
        reader.read_float()  # bbr_lambda
    return MmodOptions(windows=tuple(windows), nms_iou=nms_iou, nms_covered=nms_covered)


def _input(reader: DlibReader) -> InputLayer:
    kind = reader.expect_string("input_rgb_image_sized", "input_rgb_image",
                                "input_rgb_image_pyramid", "input_rgb_image_pyramid2")
    mean = (reader.read_float(), reader.read_float(), reader.read_float())
    if kind == "input_rgb_image_sized":
        return InputLayer(kind=kind, mean_rgb=mean, size=(reader.read_int(), reader.read_int()))
    if kind == "input_rgb_image_pyramid2":
        return InputLayer(kind=kind, mean_rgb=mean, pyramid_padding=reader.read_int(),
                          pyramid_outer_padding=reader.read_int())
    if kind == "input_rgb_image_pyramid":
        return InputLayer(kind=kind, mean_rgb=mean, pyramid_padding=10, pyramid_outer_padding=11)
    return InputLayer(kind=kind, mean_rgb=mean)


def _layer_state(reader: DlibReader, version: int, *, bottom: bool) -> None:
    """Skip an add_layer's training state: flags, cached tensors and gradients."""
    for _ in range(3):
        reader.read_bool()
    reader.tensor()  # x_grad
    reader.tensor()  # cached_output
    if bottom:
        reader.tensor()  # grad_final
        if version >= 3:
            reader.read_int()  # sample expansion factor
    elif version >= 2:
        reader.tensor()  # params_grad


def _layer(reader: DlibReader, token: str) -> Layer:
    expected = {
        "con": ("con_4", "con_5", "con_6"),
        "affine": ("affine_", "affine_2", "bn_con2"),
        "relu": ("relu_", "relu_2"),
        "max_pool": ("max_pool_2",),
        "avg_pool": ("avg_pool_2",),
        "fc": ("fc_2", "fc_3"),
    }[token]
    name = reader.expect_string(*expected)
    if token == "con":
        return _conv(reader, name)
    if token == "affine":
        return _affine(reader, name)
    if token == "relu":
        if name == "relu_2" and reader.read_bool():
            raise reader.fail("disabled relu layers are not supported")
        return Relu()
    if token in ("max_pool", "avg_pool"):
        size = _as_pair(reader)
        stride = _as_pair(reader)
        padding = _as_pair(reader)
        return Pool(mode=token.split("_")[0], size=size, stride=stride, padding=padding)
    return _fc(reader, name)


def _as_pair(reader: DlibReader) -> tuple[int, int]:
    return (reader.read_int(), reader.read_int())


def _conv(reader: DlibReader, name: str) -> Conv:
    params = reader.tensor().reshape(-1)
    filters = reader.read_int()
    rows, cols = _as_pair(reader)
    stride = _as_pair(reader)
    padding = _as_pair(reader)
    shape = reader.alias_tensor()
    reader.alias_tensor()  # biases
    for _ in range(4):
        reader.read_float()  # learning-rate and weight-decay multipliers
    use_bias = reader.read_bool() if name in ("con_5", "con_6") else True
    if name == "con_6":
        reader.read_bool()  # use_relu (a training-time fusion flag)
    count = int(np.prod(shape))
    weights = params[:count].reshape(shape)
    if (shape[0], shape[2], shape[3]) != (filters, rows, cols):
        raise reader.fail("convolution filter shape does not match its header")
    bias = params[count:count + filters].copy() if use_bias else None
    return Conv(weights=weights.copy(), bias=bias, stride=stride, padding=padding)


def _affine(reader: DlibReader, name: str) -> Affine:
    params = reader.tensor().reshape(-1)
    gamma = reader.alias_tensor()
    reader.alias_tensor()  # beta
    count = int(np.prod(gamma))
    scale, shift = params[:count], params[count:2 * count]
    if name == "bn_con2":
        reader.tensor()  # batch means
        reader.tensor()  # batch inverse deviations
        means = reader.tensor().reshape(-1)
        variances = reader.tensor().reshape(-1)
        reader.read_int()  # num_updates
        reader.read_int()  # running_stats_window_size
        for _ in range(4):
            reader.read_float()
        eps = reader.read_float()
        # dlib's affine_(bn_): g = gamma / sqrt(var + eps); b = beta - g * mean (in float)
        scale = (scale / np.sqrt(variances + np.float32(eps))).astype(np.float32)
        shift = (shift - scale * means).astype(np.float32)
    else:
        reader.read_int()  # mode
        if name == "affine_2" and reader.read_bool():
            raise reader.fail("disabled affine layers are not supported")
    return Affine(scale=scale.copy(), shift=shift.copy())


def _fc(reader: DlibReader, name: str) -> Fc:
    outputs = reader.read_int()
    inputs = reader.read_int()
    params = reader.tensor().reshape(-1)
    reader.alias_tensor()  # weights
    reader.alias_tensor()  # biases
    bias_mode = reader.read_int()
    for _ in range(4):
        reader.read_float()
    use_bias = reader.read_bool() if name == "fc_3" else True
    weights = params[:inputs * outputs].reshape(inputs, outputs)
    has_bias = use_bias and bias_mode == 0
    bias = params[inputs * outputs:inputs * outputs + outputs].copy() if has_bias else None
    return Fc(weights=weights.copy(), bias=bias)
