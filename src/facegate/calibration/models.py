"""A calibration record: which pack, which data, which threshold, at what error rates.

A :class:`Calibration` is an evaluation (:mod:`facegate.fitness.evaluation`) of a
purpose's model pack on labelled photos, recorded for that purpose. It keeps
the figures of the model card and the sorted different-person distances, so
that the false-match rate any later score corresponds to can be read off the
same data (:meth:`Calibration.fmr_at`). Plain data: the policy layer reads it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

__all__ = ["LFW_POPULATION", "Calibration", "FalseMatchRate", "false_match_rate",
           "is_lfw_population", "threshold_for_templates", "wilson"]

#: The population label of calibrations on LFW, the shipped defaults' data.
LFW_POPULATION: Final = "lfw"


def is_lfw_population(population: str) -> bool:
    """Whether ``population`` names LFW (whose faces are mostly white public figures)."""
    return population.strip().lower().startswith(LFW_POPULATION)


def threshold_for_templates(threshold: float, target_fmr: float, templates: int,
                            impostor_low: tuple[float, ...], impostor_pairs: int) -> float | None:
    """The threshold that keeps a probe matched against ``templates`` templates of one
    subject (accepted when any is within it) at ``target_fmr``.

    A probe compared with k templates has about k chances of a false match, so the
    threshold is read off the calibration's different-person distances at
    ``target_fmr / k`` (the midpoint rule of the calibration itself; never above
    ``threshold``). ``None`` when the calibration's pairs cannot show that rate:
    then only one template may be used. Measured on the East-Asian set
    (docs/accuracy.md): two templates at this threshold keep the FMR and halve the FNMR.
    """
    if templates <= 1:
        return threshold
    k = math.floor(target_fmr / templates * impostor_pairs + 1e-9)
    if k < 1 or k >= len(impostor_low):
        return None
    return min(threshold, (impostor_low[k - 1] + impostor_low[k]) / 2)


def wilson(errors: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default)."""
    if trials == 0:
        return (0.0, 1.0)
    p = errors / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def _percent(share: float) -> str:
    """``share`` as a percentage with two significant digits (0.000187 -> ``0.019``)."""
    value = 100 * share
    if value == 0:
        return "0"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"


@dataclass(frozen=True, slots=True)
class FalseMatchRate:
    """The false-match rate a score corresponds to on a calibration's different-person
    pairs, with its 95% Wilson interval.

    ``false_matches`` of ``pairs`` different-person pairs lie at or below the score.
    When none does, the rate was not observed at all, only bounded: :attr:`value` is
    then the interval's upper bound and :attr:`upper_bound` is true, so a rate is never
    shown as a bare 0.

    Args:
        false_matches: different-person pairs at or below the score.
        pairs: different-person pairs measured.
        low: the interval's lower end; ``high`` its upper end.
        calibration: which calibration it was read from (``calibration 3``, or ``shipped
            east-asian-adults``).
    """

    false_matches: int
    pairs: int
    low: float
    high: float
    calibration: str

    @property
    def upper_bound(self) -> bool:
        """No false match was observed: the rate is only known to lie below ``high``."""
        return self.false_matches == 0

    @property
    def value(self) -> float:
        """The observed share, or the upper bound where none was observed (never 0)."""
        return self.high if self.upper_bound else self.false_matches / self.pairs

    def describe(self, lang: str = "en") -> str:
        """``< 0.02% (95% CI 0–0.02%)``, ``0.15% (95% CI 0.1–0.22%)``; per language."""
        shown = f"{'< ' if self.upper_bound else ''}{_percent(self.value)}%"
        interval = f"{_percent(self.low)}–{_percent(self.high)}%"
        if lang == "zh":
            return f"{shown}（95% 置信区间 {interval}）"
        return f"{shown} (95% CI {interval})"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "upper_bound": self.upper_bound,
                "ci95": [self.low, self.high], "false_matches": self.false_matches,
                "pairs": self.pairs, "calibration": self.calibration,
                "text": {"zh": self.describe("zh"), "en": self.describe("en")}}


def false_match_rate(distance: float, impostor_low: tuple[float, ...], pairs: int, *,
                     calibration: str) -> FalseMatchRate | None:
    """The false-match rate of a decision at ``distance`` on a calibration's
    different-person pairs (its smallest distances, sorted, out of ``pairs``); ``None``
    when the calibration measured no such pairs."""
    if pairs <= 0:
        return None
    errors = bisect.bisect_right(impostor_low, distance)
    low, high = wilson(errors, pairs)
    return FalseMatchRate(false_matches=errors, pairs=pairs, low=low, high=high,
                          calibration=calibration)


@dataclass(frozen=True, slots=True)
class Calibration:
    """One recorded calibration of a purpose's pack.

    Args:
        id: row id.
        purpose_key: the purpose it was recorded for.
        pack: the model pack measured; ``pack_version`` its version.
        population: who the photos show, as the deployer describes them.
        lfw_derived: measured on LFW, not on the purpose's population.
        dataset: the labelled set's name; ``fingerprint`` its SHA-256.
        target_fmr: the false-match rate the threshold was chosen for.
        threshold: the chosen decision distance.
        genuine_pairs: same-person pairs measured; ``impostor_pairs`` different-person.
        impostor_distances: the smallest different-person distances, sorted (all of
            them up to 20,000): enough to read the FMR of any score near a threshold.
        report: the full evaluation (rates with intervals, groups).
        recorded_by: the operator; ``recorded_at`` when.
    """

    id: int
    purpose_key: str
    pack: str
    pack_version: str
    population: str
    lfw_derived: bool
    dataset: str
    fingerprint: str
    target_fmr: float
    threshold: float
    genuine_pairs: int
    impostor_pairs: int
    impostor_distances: tuple[float, ...]
    report: Mapping[str, Any]
    recorded_by: str
    recorded_at: datetime

    def fmr_at(self, distance: float) -> float:
        """The share of the calibration's different-person pairs at or below ``distance``.

        This is the false-match rate a decision at ``distance`` corresponds to
        on the calibration data; with ``n`` pairs, 0 means "below ``1/n``". Past
        the largest kept distance the value is a lower bound.
        """
        if self.impostor_pairs == 0:
            return float("nan")
        return bisect.bisect_right(self.impostor_distances, distance) / self.impostor_pairs

    def threshold_for(self, templates: int) -> float | None:
        """The threshold for a subject holding ``templates`` templates
        (:func:`threshold_for_templates`)."""
        return threshold_for_templates(self.threshold, self.target_fmr, templates,
                                       self.impostor_distances, self.impostor_pairs)

    def summary(self) -> dict[str, Any]:
        """The model card's figures for this calibration."""
        return {
            "id": self.id, "purpose": self.purpose_key, "pack": self.pack,
            "pack_version": self.pack_version, "population": self.population,
            "lfw_derived": self.lfw_derived, "dataset": self.dataset,
            "fingerprint": self.fingerprint, "target_fmr": self.target_fmr,
            "threshold": self.threshold, "genuine_pairs": self.genuine_pairs,
            "impostor_pairs": self.impostor_pairs, "fmr": self.report.get("target", {}).get("fmr"),
            "fnmr": self.report.get("target", {}).get("fnmr"),
            "groups": self.report.get("groups", []), "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }
