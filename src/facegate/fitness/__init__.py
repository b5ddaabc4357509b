"""Population fitness: measuring model packs on labelled photo folders
(:mod:`.evaluation`, behind ``facegate evaluate``/``calibrate`` and purpose
calibrations) and keeping R&D folders apart from production stores
(:mod:`.research`, R24). Both read folders of photos, never a store's templates."""
