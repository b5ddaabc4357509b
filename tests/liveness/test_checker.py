"""The checker on frames made from real photos, and the judge on hand-made numbers.

No genuine answer to a challenge exists (the genuine video, in
``test_real_videos.py``, shows no asked actions), so no test shows a real person passing;
the judge's order logic is tested on hand-made observations instead.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from facegate.analysis import FaceAnalyzer
from facegate.images import load_image
from facegate.liveness.challenges import Action
from facegate.liveness.checker import FrameObservation, Observations, judge, observe
from facegate.liveness.frames import Frame

B, L, R = Action.BLINK, Action.TURN_LEFT, Action.TURN_RIGHT


def test_a_static_photo_fails_every_challenge(analyzer: FaceAnalyzer, faces: dict[str, Path],
                                              attacks: ModuleType) -> None:
    obs = observe([Frame(at=i / 10, image=faces["obama"]) for i in range(8)], analyzer)
    for order in attacks.ORDERS:
        result = judge(order, obs)
        assert not result.passed
        assert result.actions_seen == ()
        assert any(r.startswith("actions:") for r in result.reasons)
        assert any(r.startswith("planar:") for r in result.reasons)
        assert result.scores["planar_residual"] == 0.0


def test_a_perspective_warped_photo_fails_the_planar_check(
        analyzer: FaceAnalyzer, faces: dict[str, Path], attacks: ModuleType) -> None:
    image = load_image(faces["obama"])
    frames = attacks.attack_frames("perspective", image.pixels)
    obs = observe(frames, analyzer)
    assert obs.identity_ok and all(f.face for f in obs.frames)
    for order in attacks.ORDERS:
        result = judge(order, obs)
        assert not result.passed
        assert any(r.startswith("planar:") for r in result.reasons), result.reasons
        assert result.scores["planar_residual"] < 0.06


def _scripted(script: list[tuple[float, float, float]]) -> Observations:
    """Hand-made observations: (yaw, eye aspect ratio, planar residual) per frame."""
    return Observations(frames=tuple(
        FrameObservation(at=i / 10, face=True, yaw=yaw, ear=ear, planar=planar,
                         identity_distance=0.0 if i == 0 else None)
        for i, (yaw, ear, planar) in enumerate(script)), threshold=0.6, identity_ok=True)


# frontal, blink, frontal, turn to the image's right and back, then to its left and back
_BLINK_RIGHT_LEFT = [(0, 0.3, 0.0), (0, 0.3, 0.01), (0, 0.1, 0.01), (0, 0.3, 0.01),
                     (12, 0.3, 0.03), (28, 0.3, 0.12), (5, 0.3, 0.02), (-15, 0.3, 0.05),
                     (-30, 0.3, 0.14), (-4, 0.3, 0.02)]


def test_a_sequence_with_the_actions_in_the_wrong_order_fails() -> None:
    obs = _scripted(_BLINK_RIGHT_LEFT)
    for asked in ((L, R, B), (R, B, L), (B, L, R), (L, R)):
        result = judge(asked, obs)
        assert not result.passed
        assert result.actions_seen == (B, R, L)
        assert any("wrong order" in r for r in result.reasons), result.reasons


def test_the_judge_accepts_the_asked_actions_in_order_on_scripted_numbers() -> None:
    obs = _scripted(_BLINK_RIGHT_LEFT)
    assert judge((B, R, L), obs).passed
    assert judge((R, L), obs).passed  # a natural blink besides the asked turns is allowed
    assert not judge((B, R), obs).passed  # an unasked turn is not


def test_a_different_face_or_a_slow_answer_fails() -> None:
    obs = _scripted(_BLINK_RIGHT_LEFT)
    other = Observations(frames=obs.frames, threshold=0.6, identity_ok=False)
    assert any(r.startswith("identity:") for r in judge((B, R, L), other).reasons)
    slow = Observations(frames=tuple(
        FrameObservation(at=f.at * 30, face=True, yaw=f.yaw, ear=f.ear, planar=f.planar)
        for f in obs.frames), threshold=0.6, identity_ok=True)
    assert any(r.startswith("timing:") for r in judge((B, R, L), slow).reasons)


@pytest.mark.parametrize("kind", ["rotated", "blink"])
def test_a_moved_or_eye_warped_photo_does_not_turn(
        kind: str, analyzer: FaceAnalyzer, faces: dict[str, Path], attacks: ModuleType) -> None:
    image = load_image(faces["obama"])
    eyes = attacks.eye_regions(analyzer, image)
    obs = observe(attacks.attack_frames(kind, image.pixels, eyes), analyzer)
    assert not any(judge(order, obs).passed for order in attacks.ORDERS)


def test_stills_of_one_real_head_at_three_poses_pass_a_turn_only_challenge(
        analyzer: FaceAnalyzer, samples: Path) -> None:
    """Not a genuine answer (separate photographs, no blink): it shows that real 3D
    pose changes of one person clear the turn, planar and identity checks."""
    shots = samples / "identity/face_recognition"
    front, left, right = (shots / "examples/obama.jpg", shots / "examples/obama2.jpg",
                          shots / "examples/knn_examples/test/obama1.jpg")
    order = [front, front, left, left, front, right, right, front]
    obs = observe([Frame(at=i / 5, image=p) for i, p in enumerate(order)], analyzer)
    result = judge((L, R), obs)
    assert result.passed, result.reasons
    assert result.actions_seen == (L, R)
    assert result.scores["planar_residual"] >= 0.06
    assert not judge((R, L), obs).passed
    assert not judge((L, R, B), obs).passed
