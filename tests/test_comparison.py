"""Comparison: distance, similarity and the thresholded decision."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.comparison import compare_descriptors, descriptor_distance
from facegate.engine.faces import Descriptor
from facegate.engine.packs import get_pack
from facegate.errors import DescriptorMismatch, InvalidArgument, ModelPackUnknown


def _unit(seed: int, pack: str = "dlib-resnet-v1", version: str = "1.0",
          size: int = 128) -> Descriptor:
    v = np.random.default_rng(seed).normal(size=size)
    return Descriptor(vector=(v / np.linalg.norm(v)).astype(np.float32), pack=pack,
                      pack_version=version)


def test_identical_descriptors_have_distance_zero_and_similarity_one() -> None:
    a = _unit(1)
    r = compare_descriptors(a, a)
    assert r.distance == 0.0 and r.similarity == 1.0 and r.same_person


def test_similarity_is_the_cosine_of_unit_vectors() -> None:
    a, b = _unit(1), _unit(2)
    r = compare_descriptors(a, b, threshold=0.5)
    cosine = float(a.vector.astype(np.float64) @ b.vector.astype(np.float64))
    assert r.similarity == pytest.approx(cosine, abs=1e-6)
    assert r.distance == pytest.approx(descriptor_distance(a, b))


def test_decision_is_distance_at_or_below_threshold() -> None:
    a, b = _unit(1), _unit(2)
    d = descriptor_distance(a, b)
    assert compare_descriptors(a, b, threshold=d).same_person
    assert not compare_descriptors(a, b, threshold=d - 1e-6).same_person


def test_default_threshold_is_the_packs_calibrated_one() -> None:
    a, b = _unit(1), _unit(2)
    pack = get_pack("dlib-resnet-v1")
    assert compare_descriptors(a, b).threshold == pack.default_threshold
    assert "LFW" in pack.threshold_source


@pytest.mark.parametrize("other", [_unit(2, pack="faceplugin-arcface-v1", size=512),
                                   _unit(2, version="2.0")])
def test_descriptors_of_different_packs_are_never_compared(other: Descriptor) -> None:
    with pytest.raises(DescriptorMismatch) as info:
        compare_descriptors(_unit(1), other)
    assert info.value.code == "model.mismatch"


@pytest.mark.parametrize("threshold", [0.0, -1.0, 2.0, 5.0])
def test_threshold_must_be_meaningful(threshold: float) -> None:
    with pytest.raises(InvalidArgument):
        compare_descriptors(_unit(1), _unit(2), threshold=threshold)


def test_unknown_pack_is_a_typed_error() -> None:
    with pytest.raises(ModelPackUnknown) as info:
        get_pack("no-such-pack")
    assert info.value.code == "model.unknown"
