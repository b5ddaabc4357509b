"""ONNX graphs equivalent to dlib networks, built with the ``onnx`` package.

:func:`build_descriptor_graph` turns the ResNet read by
:func:`facegate.engine.dlib_networks.read_network` into a graph that takes a
batch of aligned chips as dlib's input layer takes them (``uint8``, shape
``(n, 150, 150, 3)``, RGB) and returns the raw 128-d network outputs.

dlib's layer semantics, kept here:

* input: ``(pixel - mean) / 256`` per channel, in float32;
* convolution and pooling: cross-correlation with the stored padding, output
  size ``1 + (in + 2 * pad - size) // stride``;
* ``add_prev`` of two maps of different sizes: the smaller is zero-padded at
  its bottom and right (dlib's ``tt::add``);
* ``avg_pool_everything``: the mean over the whole map; ``fc``: ``x @ W``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .dlib_networks import Affine, Conv, DlibNetwork, Fc, Pool, Relu, Tagged

__all__ = ["build_descriptor_graph", "build_detector_graph", "descriptor_flops"]

Shape = tuple[int, int, int]  # channels, rows, cols


@dataclass
class _Builder:
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    count: int = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value: npt.NDArray[Any]) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def _out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return 1 + (size + 2 * pad - kernel) // stride


def _pad_to(b: _Builder, x: str, shape: Shape, target: Shape) -> str:
    if shape == target:
        return x
    pads = [0, 0, 0, 0, 0, target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]]
    return b.node("Pad", [x, b.const("pads", np.asarray(pads, dtype=np.int64))], mode="constant")


def build_descriptor_graph(network: DlibNetwork, *, opset: int = 17) -> bytes:
    """The serialized ONNX model of a dlib metric network with its input layer."""
    from onnx import TensorProto, helper

    if network.input.size is None:
        raise ValueError("the descriptor network must have a fixed input size")
    rows, cols = network.input.size
    b = _Builder()
    x = b.node("Cast", ["chips"], to=TensorProto.FLOAT)
    mean = np.asarray(network.input.mean_rgb, dtype=np.float32).reshape(1, 1, 1, 3)
    x = b.node("Sub", [x, b.const("mean", mean)])
    x = b.node("Mul", [x, b.const("inv256", np.asarray(1.0 / 256.0, dtype=np.float32))])
    x = b.node("Transpose", [x], perm=[0, 3, 1, 2])
    x, shape = _layers(b, x, (3, rows, cols), network)
    return _finish(b, "dlib_resnet_descriptor", opset,
                   helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", rows, cols, 3]),
                   helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["n", shape[0]]))


def build_detector_graph(network: DlibNetwork, *, opset: int = 17) -> bytes:
    """The ONNX model of the MMOD network body: input tensor (n, 3, h, w) -> scores (n, 1, h', w').

    The input is the tiled pyramid dlib's input layer builds, already
    normalised (see :mod:`facegate.engine.mmod`).
    """
    from onnx import TensorProto, helper

    b = _Builder()
    _layers(b, "tensor", (3, 0, 0), network)
    return _finish(b, "dlib_mmod_detector", opset,
                   helper.make_tensor_value_info("tensor", TensorProto.FLOAT, ["n", 3, "h", "w"]),
                   helper.make_tensor_value_info("scores", TensorProto.FLOAT,
                                                 ["n", len(network.mmod.windows) if network.mmod
                                                  else 1, "oh", "ow"]))


def _finish(b: _Builder, name: str, opset: int, inp: Any, out: Any) -> bytes:
    from onnx import checker, helper

    b.nodes[-1].output[0] = out.name
    graph = helper.make_graph(b.nodes, name, [inp], [out], initializer=b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="facegate")
    checker.check_model(model)
    return bytes(model.SerializeToString())


def _layers(b: _Builder, x: str, shape: Shape, network: DlibNetwork) -> tuple[str, Shape]:
    tags: dict[int, tuple[str, Shape]] = {}
    for layer in network.layers:
        if isinstance(layer, Conv):
            x, shape = _conv(b, x, shape, layer)
        elif isinstance(layer, Affine):
            scale = layer.scale.reshape(1, -1, 1, 1)
            x = b.node("Mul", [x, b.const("scale", scale)])
            x = b.node("Add", [x, b.const("shift", layer.shift.reshape(1, -1, 1, 1))])
        elif isinstance(layer, Relu):
            x = b.node("Relu", [x])
        elif isinstance(layer, Pool):
            x, shape = _pool(b, x, shape, layer)
        elif isinstance(layer, Tagged):
            if layer.op == "tag":
                tags[layer.tag] = (x, shape)
            elif layer.op == "skip":
                x, shape = tags[layer.tag]
            else:
                other, other_shape = tags[layer.tag]
                target: Shape = (max(shape[0], other_shape[0]), max(shape[1], other_shape[1]),
                                 max(shape[2], other_shape[2]))
                x = b.node("Add", [_pad_to(b, x, shape, target),
                                   _pad_to(b, other, other_shape, target)])
                shape = target
        elif isinstance(layer, Fc):
            x = b.node("Flatten", [x], axis=1)
            x = b.node("MatMul", [x, b.const("fc", layer.weights)])
            if layer.bias is not None:
                x = b.node("Add", [x, b.const("fc_bias", layer.bias)])
            shape = (int(layer.weights.shape[1]), 1, 1)
    return x, shape


def _conv(b: _Builder, x: str, shape: Shape, layer: Conv) -> tuple[str, Shape]:
    filters, _, kr, kc = layer.weights.shape
    inputs = [x, b.const("w", layer.weights)]
    if layer.bias is not None:
        inputs.append(b.const("b", layer.bias))
    py, px = layer.padding
    out = b.node("Conv", inputs, kernel_shape=[kr, kc], strides=list(layer.stride),
                 pads=[py, px, py, px])
    return out, (int(filters), _out_size(shape[1], kr, layer.stride[0], py),
                 _out_size(shape[2], kc, layer.stride[1], px))


def _pool(b: _Builder, x: str, shape: Shape, layer: Pool) -> tuple[str, Shape]:
    if layer.size == (0, 0):
        if layer.mode != "avg":
            raise ValueError("only average pooling over the whole map is supported")
        return b.node("GlobalAveragePool", [x]), (shape[0], 1, 1)
    (kr, kc), (sy, sx), (py, px) = layer.size, layer.stride, layer.padding
    op = "MaxPool" if layer.mode == "max" else "AveragePool"
    out = b.node(op, [x], kernel_shape=[kr, kc], strides=[sy, sx], pads=[py, px, py, px])
    return out, (shape[0], _out_size(shape[1], kr, sy, py), _out_size(shape[2], kc, sx, px))


def descriptor_flops(network: DlibNetwork) -> int:
    """Floating-point operations (multiply and add counted apart) for one input image."""
    if network.input.size is None:
        raise ValueError("the network must have a fixed input size")
    shape: Shape = (3, *network.input.size)
    tags: dict[int, Shape] = {}
    flops = 0
    for layer in network.layers:
        if isinstance(layer, Conv):
            filters, channels, kr, kc = layer.weights.shape
            shape = (int(filters), _out_size(shape[1], kr, layer.stride[0], layer.padding[0]),
                     _out_size(shape[2], kc, layer.stride[1], layer.padding[1]))
            flops += 2 * int(channels) * kr * kc * shape[0] * shape[1] * shape[2]
        elif isinstance(layer, Pool) and layer.size != (0, 0):
            (kr, kc), (sy, sx), (py, px) = layer.size, layer.stride, layer.padding
            shape = (shape[0], _out_size(shape[1], kr, sy, py), _out_size(shape[2], kc, sx, px))
        elif isinstance(layer, Tagged):
            if layer.op == "tag":
                tags[layer.tag] = shape
            elif layer.op == "skip":
                shape = tags[layer.tag]
            else:
                other = tags[layer.tag]
                shape = (max(shape[0], other[0]), max(shape[1], other[1]),
                         max(shape[2], other[2]))
        elif isinstance(layer, Fc):
            flops += 2 * int(layer.weights.shape[0]) * int(layer.weights.shape[1])
    return flops
