"""The flat-photo attack generators of bench/liveness.py."""

from __future__ import annotations

from types import ModuleType

import numpy as np


def test_an_untilted_print_is_the_photo_and_a_tilted_one_is_foreshortened(
        attacks: ModuleType) -> None:
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 255, size=(60, 80, 3), dtype=np.uint8)
    assert np.array_equal(attacks.turn_print(photo, 0.0), photo)
    tilted = attacks.turn_print(photo, 40.0)
    picture = ~(tilted == 128).all(axis=2)
    columns = np.flatnonzero(picture.any(axis=0))
    near, far = picture[:, columns[1]].sum(), picture[:, columns[-2]].sum()
    assert near > far  # the edge turned towards the camera looks taller
    assert len(columns) < photo.shape[1]  # and the print looks narrower


def test_closing_the_eyes_changes_only_the_eye_regions(attacks: ModuleType) -> None:
    photo = np.full((100, 100, 3), 200, dtype=np.uint8)
    photo[45:55, 20:40] = 20  # a dark eye
    shut = attacks.squash_eyes(photo, [(30.0, 50.0, 20.0)], 1.0)
    assert shut[45:55, 20:40].min() > 150
    assert np.array_equal(shut[:30], photo[:30]) and np.array_equal(shut[70:], photo[70:])
    assert np.array_equal(attacks.squash_eyes(photo, [(30.0, 50.0, 20.0)], 0.0), photo)


def test_every_attack_is_twenty_frames_at_ten_per_second(attacks: ModuleType) -> None:
    photo = np.full((40, 40, 3), 90, dtype=np.uint8)
    for kind in attacks.ATTACKS:
        frames = attacks.attack_frames(kind, photo, [(20.0, 20.0, 8.0)])
        assert [f.at for f in frames] == [i / 10 for i in range(20)]
    assert len(attacks.ORDERS) == 12
