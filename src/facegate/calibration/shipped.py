"""Shipped calibrations: each pack's threshold for each population it was measured on.

A population is a named group of people a purpose serves, with labelled data
the project holds to measure a pack on:

* ``lfw-view1``: LFW View 1 (news photos of public figures, mostly white
  adults); the threshold comes from pairsDevTrain and is checked on
  pairsDevTest;
* ``east-asian-adults``: the East-Asian development set
  (``../shared/data/eastasian``: portrait thumbnails of Chinese, Japanese and
  Korean adult public figures); the threshold comes from every pair of its
  folder layout (about a million different-person pairs), and the figures on
  its ``pairs.tsv`` are kept beside it.

The figures are data, not code: ``calibrations.json`` beside this module is
written by ``python bench/population.py --write`` from those sets (never the
images: only thresholds, rates and the sets' fingerprints) and read here.
A purpose serving a population runs at its pack's calibration for that
population unless it has its own (R21); it never borrows another
population's threshold.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from .models import threshold_for_templates

__all__ = [
    "DEFAULT_POPULATION",
    "EAST_ASIAN_ADULTS",
    "LFW_VIEW1",
    "POPULATIONS",
    "ShippedCalibration",
    "shipped_calibration",
    "shipped_calibrations",
]

LFW_VIEW1: Final = "lfw-view1"
EAST_ASIAN_ADULTS: Final = "east-asian-adults"
#: The population of the default jurisdiction profile (cn-2025), and so of the library.
DEFAULT_POPULATION: Final = EAST_ASIAN_ADULTS

#: Every population with shipped calibrations: what its data shows, in Chinese and English.
POPULATIONS: Final[Mapping[str, Mapping[str, str]]] = {
    LFW_VIEW1: {
        "en": "LFW View 1: news photos of public figures, mostly white adults",
        "zh": "LFW View 1：公众人物新闻照片，以白人成年人为主",
    },
    EAST_ASIAN_ADULTS: {
        "en": "East-Asian adults: portrait photos of Chinese, Japanese and Korean adult "
              "public figures",
        "zh": "东亚成年人：中国、日本、韩国成年公众人物的肖像照片",
    },
}


@dataclass(frozen=True, slots=True)
class ShippedCalibration:
    """One pack's calibration for one population, as shipped.

    Args:
        pack: the model pack measured; ``pack_version`` its version.
        population: the population (a key of :data:`POPULATIONS`).
        dataset: the labelled set; ``fingerprint`` its SHA-256 (labels and files).
        protocol: which pairs the threshold was chosen on.
        target_fmr: the false-match rate the threshold was chosen for.
        threshold: the decision distance.
        fmr: different-person pairs accepted at the threshold on the calibration
            pairs: ``errors``, ``trials`` and the 95% Wilson interval ``ci95``.
        fnmr: same-person pairs rejected there, likewise.
        checks: the same rates on other pairs of the population (held-out pairs,
            another pair list), each with its name.
        quality: the range the calibration's faces measured: the smallest face
            size, sharpness and brightness, the largest brightness and absolute
            yaw and pitch. A probe outside it is not decided on.
        impostor_low: the smallest different-person distances, sorted, for
            reading the false-match rate of a score.
        measured_with: the command that wrote these figures.
    """

    pack: str
    pack_version: str
    population: str
    dataset: str
    fingerprint: str
    protocol: str
    target_fmr: float
    threshold: float
    fmr: Mapping[str, Any]
    fnmr: Mapping[str, Any]
    checks: tuple[Mapping[str, Any], ...]
    quality: Mapping[str, float]
    impostor_low: tuple[float, ...]
    impostor_pairs: int
    genuine_pairs: int
    measured_with: str

    @property
    def fmr_interval(self) -> tuple[float, float]:
        lo, hi = self.fmr["ci95"]
        return float(lo), float(hi)

    @property
    def fnmr_value(self) -> float:
        return float(self.fnmr["value"])

    def threshold_for(self, templates: int) -> float | None:
        """The threshold for a subject holding ``templates`` templates
        (:func:`~facegate.calibration.models.threshold_for_templates`)."""
        return threshold_for_templates(self.threshold, self.target_fmr, templates,
                                       self.impostor_low, self.impostor_pairs)

    def fmr_at(self, distance: float) -> float:
        """The share of the calibration's different-person pairs at or below ``distance``."""
        import bisect

        return bisect.bisect_right(self.impostor_low, distance) / self.impostor_pairs

    def describe(self, lang: str = "en") -> str:
        """One line: which calibration, at what FMR with its interval, on which data."""
        lo, hi = self.fmr_interval
        words = POPULATIONS.get(self.population, {}).get(lang, self.population)
        fmr = 100 * float(self.fmr["value"])
        if lang == "zh":
            return (f"{self.pack} 在“{self.population}”人群上的出厂校准（{words}）：阈值 "
                    f"{self.threshold:.4f}，误识率 {fmr:.3f}%（95% 置信区间 {100 * lo:.3f}%–"
                    f"{100 * hi:.3f}%），数据 {self.dataset}")
        return (f"the shipped {self.population} calibration of {self.pack} ({words}): "
                f"threshold {self.threshold:.4f}, FMR {fmr:.3f}% (95% interval "
                f"{100 * lo:.3f}-{100 * hi:.3f}%), on {self.dataset}")

    def summary(self) -> dict[str, Any]:
        """The model card's figures for this calibration."""
        return {"pack": self.pack, "pack_version": self.pack_version,
                "population": self.population, "dataset": self.dataset,
                "fingerprint": self.fingerprint, "protocol": self.protocol,
                "target_fmr": self.target_fmr, "threshold": self.threshold,
                "genuine_pairs": self.genuine_pairs, "impostor_pairs": self.impostor_pairs,
                "fmr": dict(self.fmr), "fnmr": dict(self.fnmr),
                "checks": [dict(c) for c in self.checks], "quality": dict(self.quality),
                "measured_with": self.measured_with, "shipped": True}


@functools.cache
def shipped_calibrations() -> tuple[ShippedCalibration, ...]:
    """Every shipped calibration (read once, on first use)."""
    text = resources.files(__package__).joinpath("calibrations.json").read_text("utf-8")
    data = json.loads(text)
    return tuple(ShippedCalibration(
        pack=c["pack"], pack_version=c["pack_version"], population=c["population"],
        dataset=c["dataset"], fingerprint=c["fingerprint"], protocol=c["protocol"],
        target_fmr=float(c["target_fmr"]), threshold=float(c["threshold"]), fmr=c["fmr"],
        fnmr=c["fnmr"], checks=tuple(c.get("checks", ())), quality=c.get("quality", {}),
        impostor_low=tuple(float(v) for v in c.get("impostor_low", ())),
        impostor_pairs=int(c["impostor_pairs"]), genuine_pairs=int(c["genuine_pairs"]),
        measured_with=data["measured_with"]) for c in data["calibrations"])


def shipped_calibration(pack: str, pack_version: str,
                        population: str) -> ShippedCalibration | None:
    """The shipped calibration of ``pack`` (at ``pack_version``) for ``population``."""
    for c in shipped_calibrations():
        if (c.pack, c.pack_version, c.population) == (pack, pack_version, population):
            return c
    return None
