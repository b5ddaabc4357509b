"""The false-match rate a score corresponds to on a calibration: the observed share with
its 95% Wilson interval, and the interval's upper bound where none was observed, never 0."""

from __future__ import annotations

import pytest

from facegate.calibration.models import false_match_rate, wilson

LOW = (0.40, 0.42, 0.45, 0.47, 0.50)  # the smallest different-person distances, sorted


def test_no_false_match_observed_is_an_upper_bound_never_zero() -> None:
    fmr = false_match_rate(0.30, LOW, 20_000, calibration="calibration 1")
    assert fmr is not None and fmr.false_matches == 0 and fmr.upper_bound
    assert fmr.value == fmr.high == pytest.approx(wilson(0, 20_000)[1])
    assert fmr.value > 0
    assert fmr.low == 0.0
    assert fmr.describe() == "< 0.019% (95% CI 0–0.019%)"
    assert fmr.describe("zh") == "< 0.019%（95% 置信区间 0–0.019%）"
    assert fmr.as_dict()["value"] > 0 and fmr.as_dict()["upper_bound"] is True


def test_observed_false_matches_are_the_share_with_its_interval() -> None:
    fmr = false_match_rate(0.45, LOW, 2_000, calibration="shipped east-asian-adults")
    assert fmr is not None and (fmr.false_matches, fmr.upper_bound) == (3, False)
    assert fmr.value == 3 / 2_000 and fmr.low < fmr.value < fmr.high
    assert fmr.describe() == "0.15% (95% CI 0.051–0.44%)"


def test_a_calibration_without_different_person_pairs_has_no_rate() -> None:
    assert false_match_rate(0.3, (), 0, calibration="calibration 2") is None
