"""Model packs: installed by name and pinned hash, never implicitly, never half-way."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from facegate.engine.arcface import ARCFACE_TEMPLATE, align_chip, five_from_68, similarity_transform
from facegate.engine.default import engine_for_pack
from facegate.engine.pack_install import (
    find_pack,
    install_pack,
    installed_files,
    is_installed,
    pack_dir,
    register_custom,
)
from facegate.engine.packs import FACEPLUGIN_ARCFACE_V1, PACKS, PackKind, get_pack
from facegate.errors import (
    InvalidArgument,
    ModelInstallFailed,
    ModelIntegrityError,
    ModelPackMissing,
    ModelPackUnknown,
)
from facegate.images import load_image

PACK = FACEPLUGIN_ARCFACE_V1


def _fake_tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_every_pack_names_its_licence_provenance_and_threshold_source() -> None:
    for pack in PACKS.values():
        assert pack.licence and pack.provenance and pack.threshold_source
        assert 0 < pack.default_threshold < 2
    assert get_pack("faceplugin-arcface-v1").kind is PackKind.ARCFACE
    assert PACK.source is not None and PACK.source.spec == "faceplugin-face-recognition-js@0.0.1"


def test_no_age_gender_or_expression_model_is_part_of_any_pack() -> None:
    # R11: the npm package ships such models; the pack never extracts or loads them.
    for pack in PACKS.values():
        for entry in pack.files:
            assert not any(word in entry.name for word in ("age", "gender", "expression"))


def test_a_tarball_whose_hash_differs_is_refused_and_nothing_is_installed(
        tmp_path: Path) -> None:
    fake = _fake_tarball(tmp_path / "faceplugin.tgz",
                         {f.source_path: b"not the model" for f in PACK.files})
    with pytest.raises(ModelIntegrityError) as info:
        install_pack(PACK.id, tarball=fake, folder=tmp_path / "cache")
    assert info.value.code == "model.integrity"
    assert info.value.details["expected"] == PACK.source.tarball_sha256  # type: ignore[union-attr]
    assert not is_installed(PACK, tmp_path / "cache")
    assert not pack_dir(PACK, tmp_path / "cache").exists()


def test_an_unreadable_tarball_and_a_missing_one_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallFailed):
        install_pack(PACK.id, tarball=tmp_path / "absent.tgz", folder=tmp_path)
    with pytest.raises(ModelPackUnknown):
        install_pack("no-such-pack", folder=tmp_path)
    with pytest.raises(InvalidArgument):
        install_pack("dlib-resnet-v1", folder=tmp_path)


def test_without_npm_the_error_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallFailed) as info:
        install_pack(PACK.id, folder=tmp_path, npm="no-such-npm-client")
    assert "--tarball" in info.value.message


def test_a_missing_pack_names_the_install_command(tmp_path: Path) -> None:
    engine = engine_for_pack(PACK.id, cache_dir=tmp_path)
    image = load_image(np.full((120, 120, 3), 100, dtype=np.uint8))
    with pytest.raises(ModelPackMissing) as info:
        engine.describe_chips(np.zeros((1, 112, 112, 3), dtype=np.uint8))  # type: ignore[attr-defined]
    assert "facegate models install faceplugin-arcface-v1" in info.value.message
    with pytest.raises(ModelPackMissing):
        engine.detect(image)  # the pack's own detector is one of its files


@pytest.mark.skipif(shutil.which("npm") is None, reason="the npm client is not installed")
def test_install_obtains_the_pinned_package_with_npm(tmp_path: Path) -> None:
    done = install_pack(PACK.id, folder=tmp_path)
    assert done.source == "npm:faceplugin-face-recognition-js@0.0.1"
    files = installed_files(PACK, tmp_path)
    assert set(files) == {"descriptor", "liveness", "detector", "landmarks"}
    names = sorted(p.name for p in pack_dir(PACK, tmp_path).iterdir())
    assert names == sorted([*(f.name for f in PACK.files), "pack.json"])
    # A changed file is refused on load rather than run.
    files["descriptor"].write_bytes(b"tampered")
    with pytest.raises(ModelIntegrityError):
        installed_files(PACK, tmp_path)


def test_a_custom_network_is_checked_and_becomes_its_own_pack(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    # A tiny ArcFace-shaped network: global average pool of the chip, then a fixed projection.
    weights = helper.make_tensor("w", TensorProto.FLOAT, [3, 16],
                                 np.arange(48, dtype=np.float32).tolist())
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["output"])],
        "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 16])], [weights])
    model = tmp_path / "mine.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    pack = register_custom(model, name="tiny", version="2", threshold=0.8,
                           threshold_source="our own staff photos, FMR 1e-3",
                           descriptor_size=16, folder=tmp_path / "cache")
    assert pack.id == "onnx-custom/tiny"
    assert find_pack("onnx-custom/tiny", tmp_path / "cache") == pack
    engine = engine_for_pack(pack.id, cache_dir=tmp_path / "cache")
    vectors = engine.describe_chips(  # type: ignore[attr-defined]
        np.full((2, 112, 112, 3), 200, dtype=np.uint8))
    assert vectors.shape == (2, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    with pytest.raises(InvalidArgument):
        register_custom(model, name="Bad Name", version="1", threshold=0.8,
                        threshold_source="x", descriptor_size=16, folder=tmp_path)
    with pytest.raises(InvalidArgument):
        register_custom(model, name="wrong-size", version="1", threshold=0.8,
                        threshold_source="x", descriptor_size=512, folder=tmp_path)
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(InvalidArgument):
        register_custom(tmp_path / "junk.onnx", name="junk", version="1", threshold=0.8,
                        threshold_source="x", folder=tmp_path)


def test_the_similarity_transform_recovers_a_known_one() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = ARCFACE_TEMPLATE
    target = scale * source @ rotation.T + shift
    matrix = similarity_transform(source, target)
    assert np.allclose(matrix[:, :2], scale * rotation)
    assert np.allclose(matrix[:, 2], shift)


def test_a_chip_puts_the_five_points_on_the_template() -> None:
    # Draw five bright dots where a tilted, scaled face's points lie, then cut the chip.
    image = np.zeros((400, 400, 3), dtype=np.uint8)
    angle, scale = -0.2, 2.6
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = scale * ARCFACE_TEMPLATE @ rotation.T + np.array([60.0, 50.0])
    for x, y in np.rint(points).astype(int):
        image[y - 2:y + 3, x - 2:x + 3] = 255
    chip = align_chip(image, points)
    assert chip.shape == (112, 112, 3)
    for x, y in np.rint(ARCFACE_TEMPLATE).astype(int):
        assert chip[y, x, 0] > 150


def test_five_points_come_from_eye_centres_nose_tip_and_mouth_corners() -> None:
    points = np.zeros((68, 2))
    points[[37, 38, 40, 41]] = (10.0, 20.0)
    points[[43, 44, 46, 47]] = (30.0, 20.0)
    points[30] = (20.0, 30.0)
    points[[48, 60]] = (12.0, 40.0)
    points[[54, 64]] = (28.0, 40.0)
    assert five_from_68(points).tolist() == [[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]]
    with pytest.raises(ValueError):
        five_from_68(np.zeros((5, 2)))
