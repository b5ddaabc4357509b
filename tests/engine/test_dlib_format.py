"""The dlib file reader: the integer/float encoding, errors, and the shipped networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegate.engine.dlib_format import DlibReader, decode_int_stream, ints_to_float32
from facegate.engine.dlib_networks import (
    MMOD_DETECTOR,
    Affine,
    Conv,
    Fc,
    Pool,
    Tagged,
    read_network,
)
from facegate.engine.onnx_graphs import descriptor_flops
from facegate.errors import ModelFormatError


def test_integers_use_a_control_byte_and_little_endian_magnitude() -> None:
    # 0x01 0x0d = 13; 0x82 0x2c 0x01 = -300; 0x01 0x00 is not valid (size 1, value 0 is fine)
    reader = DlibReader(b"\x01\x0d\x82\x2c\x01\x01\x00")
    assert reader.read_int() == 13
    assert reader.read_int() == -300
    assert reader.read_int() == 0
    assert reader.at_end()


def test_floats_are_mantissa_then_exponent() -> None:
    # 0.04 as dlib writes it: mantissa 0xa3d70a, exponent -28
    reader = DlibReader(b"\x03\x0a\xd7\xa3\x81\x1c")
    assert reader.read_float() == pytest.approx(0.04, abs=1e-8)


def test_special_float_exponents() -> None:
    ints = np.array([0, 0, 0], dtype=np.int64)
    values = ints_to_float32(ints, np.array([32000, 32001, 32002], dtype=np.int64))
    assert values[0] == np.inf and values[1] == -np.inf and np.isnan(values[2])


def test_strings_and_bools() -> None:
    reader = DlibReader(b"\x01\x04con_1")
    assert reader.read_string() == "con_"
    assert reader.read_bool() is True


def test_truncated_input_is_a_typed_error() -> None:
    with pytest.raises(ModelFormatError) as info:
        DlibReader(b"\x02\x01", name="cut.dat").read_int()
    assert info.value.code == "model.invalid_format"
    with pytest.raises(ModelFormatError):
        decode_int_stream(b"\x01\x05\x03\x01", name="cut.dat")


def test_bad_control_byte_is_refused() -> None:
    with pytest.raises(ModelFormatError):
        DlibReader(b"\x30").read_int()
    with pytest.raises(ModelFormatError):
        decode_int_stream(b"\x01\x05\x00")


def test_int_stream_decodes_like_the_reader() -> None:
    data = b"\x01\x0d\x82\x2c\x01\x03\x0a\xd7\xa3\x81\x1c"
    ints = decode_int_stream(data)
    assert ints.tolist() == [13, -300, 0xA3D70A, -28]


def test_resnet_file_reads_as_the_29_layer_network(models_dir: Path) -> None:
    net = read_network(models_dir / "dlib_face_recognition_resnet_model_v1.dat")
    assert net.loss == "loss_metric_2"
    assert net.input.size == (150, 150)
    assert net.input.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    convs = [layer for layer in net.layers if isinstance(layer, Conv)]
    assert len(convs) == 29
    assert convs[0].weights.shape == (32, 3, 7, 7) and convs[0].stride == (2, 2)
    assert sum(isinstance(layer, Affine) for layer in net.layers) == 29
    assert sum(isinstance(layer, Tagged) and layer.op == "add" for layer in net.layers) == 14
    assert isinstance(net.layers[-2], Pool) and net.layers[-2].size == (0, 0)
    fc = net.layers[-1]
    assert isinstance(fc, Fc) and fc.weights.shape == (256, 128) and fc.bias is None
    # about 0.54 GFLOP per face (multiplies and adds counted apart)
    assert 0.5e9 < descriptor_flops(net) < 0.6e9


def test_mmod_file_reads_with_its_options(models_dir: Path) -> None:
    net = read_network(models_dir / "mmod_human_face_detector.dat", MMOD_DETECTOR)
    assert net.mmod is not None and net.mmod.windows == ((80, 80),)
    assert net.input.pyramid_padding == 10 and net.input.pyramid_outer_padding == 11
    convs = [layer for layer in net.layers if isinstance(layer, Conv)]
    assert [c.weights.shape[0] for c in convs] == [16, 32, 32, 45, 45, 45, 1]


def test_a_file_of_another_network_is_refused(models_dir: Path) -> None:
    with pytest.raises(ModelFormatError):
        read_network(models_dir / "mmod_human_face_detector.dat")
