"""Model packs in a deployment: calibrations, the model card, and moving a purpose to another pack.

A purpose's gallery holds the templates of one model pack. Its threshold
starts as the pack's shipped default, which was calibrated on LFW; a
calibration on labelled photos of the purpose's own population
(:meth:`PackBooks.calibrate_purpose`) replaces it and locks it. The gate
refuses to activate, or to run, an identification purpose whose threshold
does not come from such a calibration with the purpose's pack, and warns for
a verification purpose (R21).

Raw images are not kept, so a purpose cannot be moved to another pack by
recomputing templates. :meth:`PackBooks.begin_pack_migration` opens a
transition window: new enrollments use the next pack, subjects re-enroll at
their next visit, and both packs' templates verify and identify (each with
its own threshold, never compared with each other) until the window ends or
:meth:`PackBooks.finish_pack_migration` erases the old pack's templates and
makes the next pack the purpose's pack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..calibration.models import Calibration, is_lfw_population
from ..calibration.repository import get_calibration, insert_calibration, list_calibrations
from ..engine.pack_install import find_pack
from ..errors import InvalidArgument, PurposeNotActive
from ..fitness.evaluation import Evaluation, evaluate_pack, load_labelled_set
from ..policy import gate
from ..purposes import repository as purposes_repo
from ..purposes.models import Mode
from ..templates.store import delete_pack_templates, subjects_with_pack
from .rights import Rights

__all__ = ["PackBooks", "PackMigration"]

#: What every model card says beyond the figures.
_CAVEATS = (
    "Turned faces: the figures are for portraits facing the camera. On frontal-profile "
    "photos (faces seen from the side) the faceplugin pack's own detector misses many faces "
    "(290 of CFP's 1,961 in the project's measurement, against dlib's 22); facegate then "
    "tries dlib's MMOD detector, and refuses a face turned beyond 40 degrees as "
    "turned_away. A verification probe outside what the calibration measured is not "
    "decided on.",
    "The shipped calibrations come from public figures' photos, not from the people a "
    "purpose serves; calibrate on them (facegate purpose calibrate).",
)


@dataclass(frozen=True, slots=True)
class PackMigration:
    """Where a purpose's move to another pack stands."""

    purpose_key: str
    from_pack: str
    to_pack: str
    ends_at: datetime | None
    subjects_moved: int
    subjects_pending: int
    templates_erased: int = 0


class PackBooks(Rights):
    """Calibrations, model cards and pack migrations; part of :class:`Deployment`."""

    # -- calibration ------------------------------------------------------------

    def record_calibration(self, *, purpose: str, evaluation: Evaluation, population: str,
                           operator: str = "system") -> Calibration:
        """Record ``evaluation`` as the calibration of ``purpose``'s pack and lock its
        threshold to the one evaluated for the target false-match rate (R21).

        ``population`` says whom the photos show (``lfw`` for LFW). A calibration
        of the next pack during a migration sets the next pack's threshold.

        Raises:
            InvalidArgument: the evaluation measured a pack the purpose does not
                use, or its data cannot show the target false-match rate.
        """
        if not population.strip():
            raise InvalidArgument("say whom the calibration photos show (population)")
        threshold = evaluation.target.threshold
        if threshold is None:
            raise InvalidArgument(
                f"{evaluation.impostor_pairs} different-person pairs cannot show a false-match "
                f"rate of {evaluation.target.target_fmr:g}: at least "
                f"{int(1 / evaluation.target.target_fmr)} are needed",
                details={"impostor_pairs": evaluation.impostor_pairs,
                         "target_fmr": evaluation.target.target_fmr})
        with self._unit() as conn:
            row = self._purpose(conn, purpose)
            if evaluation.pack not in (row.pack, row.next_pack):
                raise InvalidArgument(
                    f"purpose {purpose} runs {row.pack}"
                    + (f" and is moving to {row.next_pack}" if row.next_pack else "")
                    + f"; a calibration of {evaluation.pack} does not apply",
                    details={"purpose": purpose, "pack": evaluation.pack})
            calibration = insert_calibration(
                conn, purpose_key=purpose, pack=evaluation.pack,
                pack_version=evaluation.pack_version, population=population.strip(),
                lfw_derived=is_lfw_population(population), dataset=evaluation.dataset,
                fingerprint=evaluation.fingerprint, target_fmr=evaluation.target.target_fmr,
                threshold=threshold, genuine_pairs=evaluation.genuine_pairs,
                impostor_pairs=evaluation.impostor_pairs,
                impostor_distances=evaluation.impostor_low,
                report={**evaluation.as_dict(), "det": _det_points(evaluation.det)},
                recorded_by=operator, recorded_at=self._clock.now())
            if evaluation.pack == row.next_pack:
                changed = dataclasses.replace(row, next_threshold=threshold,
                                              next_calibration_id=calibration.id)
            else:
                changed = dataclasses.replace(row, threshold=threshold,
                                              calibration_id=calibration.id)
            purposes_repo.update_purpose(
                conn, purpose=dataclasses.replace(changed, updated_at=self._clock.now()))
            target = evaluation.target
            self._audit(conn, "calibration-recorded", operator=operator, purpose_key=purpose,
                        detail={"calibration": calibration.id, "pack": evaluation.pack,
                                "population": calibration.population,
                                "lfw_derived": calibration.lfw_derived,
                                "dataset": evaluation.dataset,
                                "fingerprint": evaluation.fingerprint,
                                "target_fmr": target.target_fmr, "threshold": threshold,
                                "fmr": target.fmr.value if target.fmr else None,
                                "fnmr": target.fnmr.value if target.fnmr else None})
        return calibration

    def calibrate_purpose(self, *, purpose: str, data: str | Path, population: str,
                          target_fmr: float = 1e-3, pairs_file: str | Path | None = None,
                          groups_file: str | Path | None = None, pack: str | None = None,
                          operator: str = "system",
                          progress: Callable[[int], None] | None = None) -> Calibration:
        """Measure the purpose's pack on labelled photos of its population and record it.

        ``data`` is a folder per person or a folder with a pairs file (see
        :func:`facegate.fitness.evaluation.load_labelled_set`). The photos are only read:
        nothing of them is stored but the evaluation's figures.
        """
        row = self.purpose(purpose)
        chosen = pack or row.enrolling_pack()
        labelled = load_labelled_set(Path(data),
                                     pairs_file=Path(pairs_file) if pairs_file else None,
                                     groups_file=Path(groups_file) if groups_file else None)
        with self._slow_work("evaluation"):
            evaluation = evaluate_pack(self.analyzer_for(chosen), labelled,
                                       threshold=row.threshold_for(chosen),
                                       threshold_label="the purpose's current threshold",
                                       target_fmr=target_fmr, progress=progress)
        return self.record_calibration(purpose=purpose, evaluation=evaluation,
                                       population=population, operator=operator)

    def use_calibration(self, *, purpose: str, calibration: int | None,
                        operator: str = "system") -> Calibration | None:
        """Run ``purpose`` at ``calibration``, one of its own recorded calibrations of its
        pack, or (``None``) at its pack's shipped calibration for the population it
        serves, if the gate allows it (R21: an identification purpose needs its own).

        Raises:
            InvalidArgument: the calibration is not one of the purpose's, of its pack.
            PolicyRefusal: ``calibration.missing`` (R21).
        """
        with self._unit() as conn:
            row = self._purpose(conn, purpose)
            chosen = None
            if calibration is not None:
                chosen = get_calibration(conn, id=calibration)
                if chosen is None or chosen.purpose_key != purpose or chosen.pack != row.pack:
                    raise InvalidArgument(
                        f"calibration {calibration} is not one of {purpose}'s for {row.pack}",
                        details={"purpose": purpose, "calibration": calibration})
            changed = dataclasses.replace(
                row, threshold=chosen.threshold if chosen else None,
                calibration_id=chosen.id if chosen else None)
            decision = gate.check_calibration_choice(changed, chosen,
                                                     self._shipped(changed, row.pack),
                                                     self._profile(conn))
            self._enforce(conn, decision, "use-calibration", operator=operator,
                          purpose_key=purpose)
            purposes_repo.update_purpose(
                conn, purpose=dataclasses.replace(changed, updated_at=self._clock.now()))
            self._audit(conn, "calibration-chosen", operator=operator, purpose_key=purpose,
                        detail={"calibration": chosen.id if chosen else None,
                                "shipped": chosen is None, "threshold": changed.threshold})
        return chosen

    def calibrations(self, purpose: str) -> list[Calibration]:
        """Every calibration recorded for ``purpose``, oldest first."""
        self._purpose(self._conn, purpose)
        return list_calibrations(self._conn, purpose_key=purpose)

    def model_card(self, purpose: str) -> dict[str, Any]:
        """The model card of ``purpose`` (R21): the pack, where it comes from, the
        threshold in force and the calibration it was evaluated on, with its error
        rates and their confidence intervals."""
        conn = self._conn
        row = self._purpose(conn, purpose)
        pack = find_pack(row.pack)
        calibration = self._calibration(conn, row.calibration_id)
        shipped = self._shipped(row, row.pack)
        threshold = self._threshold(row, row.pack)
        if calibration is not None:
            source = f"calibration {calibration.id} on {calibration.population}"
        elif row.threshold is not None:
            source = "set by hand, not from a calibration"
        elif shipped is not None:
            source = shipped.describe()
        else:
            source = f"the pack's shipped default: {pack.threshold_source}"
        return {
            "purpose": row.key, "modes": sorted(row.modes), "population": row.population,
            "pack": {"id": pack.id, "version": pack.version,
                     "descriptor_size": pack.descriptor_size, "licence": pack.licence,
                     "provenance": pack.provenance, "default_threshold": pack.default_threshold,
                     "default_threshold_source": pack.threshold_source},
            "threshold": threshold,
            "threshold_source": source,
            "calibration": calibration.summary() if calibration else None,
            "shipped_calibration": (shipped.summary()
                                    if shipped is not None and calibration is None
                                    and row.threshold is None else None),
            "threshold_is_evaluated": bool(
                (calibration and abs(calibration.threshold - threshold) <= 1e-9)
                or (calibration is None and row.threshold is None and shipped is not None)),
            "population_calibrated": bool(calibration and not calibration.lfw_derived
                                          and calibration.pack == row.pack),
            "caveats": list(_CAVEATS),
            "migration": ({"to_pack": row.next_pack, "threshold": row.next_threshold,
                           "calibration": row.next_calibration_id,
                           "ends_at": row.migration_ends_at.isoformat()
                           if row.migration_ends_at else None}
                          if row.next_pack else None),
            "warnings": self.activation_warnings(purpose)
            if Mode.IDENTIFY not in row.modes else [],
        }

    # -- moving to another pack ------------------------------------------------------

    def begin_pack_migration(self, *, purpose: str, pack: str, window_days: int,
                             threshold: float | None = None,
                             operator: str = "system") -> PackMigration:
        """Start moving ``purpose`` to ``pack``: new enrollments use it, and both packs'
        templates are valid for ``window_days``.

        An identification purpose cannot identify with the next pack until the
        next pack is calibrated on its population (R21).

        Raises:
            InvalidArgument: the same pack, a migration already under way, or a bad window.
            ModelPackUnknown: no such pack.
        """
        find_pack(pack)
        if not 1 <= window_days <= 3650:
            raise InvalidArgument("the transition window must be 1 to 3650 days",
                                  details={"window_days": window_days})
        with self._unit() as conn:
            row = self._purpose(conn, purpose)
            if pack == row.pack:
                raise InvalidArgument(f"purpose {purpose} already runs {pack}")
            if row.next_pack is not None:
                raise InvalidArgument(f"purpose {purpose} is already moving to {row.next_pack}",
                                      details={"next_pack": row.next_pack})
            now = self._clock.now()
            changed = dataclasses.replace(row, next_pack=pack, next_threshold=threshold,
                                          next_calibration_id=None,
                                          migration_ends_at=now + timedelta(days=window_days),
                                          updated_at=now)
            purposes_repo.update_purpose(conn, purpose=changed)
            self._audit(conn, "pack-migration-started", operator=operator, purpose_key=purpose,
                        detail={"from": row.pack, "to": pack, "window_days": window_days,
                                "ends_at": changed.migration_ends_at.isoformat()
                                if changed.migration_ends_at else None})
            return self._migration(conn, changed.key)

    def pack_migration(self, purpose: str) -> PackMigration:
        """How many subjects have re-enrolled with the next pack, and how many have not."""
        return self._migration(self._conn, purpose)

    def _migration(self, conn: Any, purpose: str) -> PackMigration:
        row = self._purpose(conn, purpose)
        if row.next_pack is None:
            raise PurposeNotActive(f"purpose {purpose} is not moving to another pack",
                                   details={"purpose": purpose})

        moved = subjects_with_pack(conn, purpose_key=purpose, pack=row.next_pack)
        pending = subjects_with_pack(conn, purpose_key=purpose, pack=row.pack) - moved
        return PackMigration(purpose_key=purpose, from_pack=row.pack, to_pack=row.next_pack,
                             ends_at=row.migration_ends_at, subjects_moved=len(moved),
                             subjects_pending=len(pending))

    def finish_pack_migration(self, *, purpose: str, operator: str = "system") -> PackMigration:
        """End the transition: erase the old pack's templates (and images kept with
        them) and make the next pack the purpose's pack, with its threshold and
        calibration. Subjects who did not re-enroll must enroll again."""
        with self._unit() as conn:
            before = self._migration(conn, purpose)
            row = self._purpose(conn, purpose)
            assert row.next_pack is not None
            erased = delete_pack_templates(conn, guard=self._guard(conn), purpose_key=purpose,
                                           pack=row.pack)
            changed = dataclasses.replace(
                row, pack=row.next_pack, threshold=row.next_threshold,
                calibration_id=row.next_calibration_id, next_pack=None, next_threshold=None,
                next_calibration_id=None, migration_ends_at=None, updated_at=self._clock.now())
            purposes_repo.update_purpose(conn, purpose=changed)
            self._audit(conn, "pack-migration-finished", operator=operator, purpose_key=purpose,
                        detail={"from": before.from_pack, "to": before.to_pack,
                                "templates_erased": len(erased),
                                "subjects_moved": before.subjects_moved,
                                "subjects_to_re_enroll": before.subjects_pending})
        self._galleries.forget(purpose)  # the erased templates leave memory too
        return dataclasses.replace(before, templates_erased=len(erased))


def _det_points(det: tuple[tuple[float, ...], tuple[float, ...]],
                limit: int = 80) -> dict[str, list[float]]:
    """The evaluation's DET curve, thinned to at most ``limit`` points, for the impact
    assessment's figure."""
    fmr, fnmr = det
    step = max(1, -(-len(fmr) // limit))
    keep = sorted({*range(0, len(fmr), step), len(fmr) - 1}) if fmr else []
    return {"fmr": [round(fmr[i], 8) for i in keep], "fnmr": [round(fnmr[i], 8) for i in keep]}
