"""Which pack runs when none is named: the best-measured installed pack for a population.

Each shipped calibration (:mod:`facegate.calibration.shipped`) is set for the
same false-match rate (0.1%) on its population, so packs compare by the
false-non-match rate they pay for it there. Only installed packs count;
``dlib-resnet-v1`` comes with the Python install and is the fallback
(``DEFAULT_PACK``). Nothing here loads a model.
"""

from __future__ import annotations

from pathlib import Path

from ..calibration.shipped import DEFAULT_POPULATION, shipped_calibration
from .pack_install import is_installed
from .packs import DEFAULT_PACK, PACKS

__all__ = ["best_pack"]


def best_pack(population: str | None = None, *, cache_dir: Path | None = None) -> str:
    """The best-measured installed pack for ``population`` (the default profile's,
    East-Asian adults, when ``None``): the lowest FNMR at its shipped calibration for
    the population; ``DEFAULT_PACK`` when no installed pack has one."""
    wanted = population or DEFAULT_POPULATION
    ranked = []
    for pack in PACKS.values():
        if pack.installable and not is_installed(pack, cache_dir):
            continue
        found = shipped_calibration(pack.id, pack.version, wanted)
        if found is not None:
            ranked.append((found.fnmr_value, pack.id))
    return min(ranked)[1] if ranked else DEFAULT_PACK
