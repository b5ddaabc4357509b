-- facegate 0003: model packs and calibrations.
-- A purpose runs one model pack; its gallery holds only that pack's templates.
-- While a purpose moves to another pack, the next pack, its threshold and
-- calibration, and the end of the transition window are recorded; templates of
-- both packs are valid until then.
-- A calibration is an evaluation of the purpose's pack on labelled photos of
-- the population it serves; the purpose's threshold is locked to it.

ALTER TABLE purposes ADD COLUMN pack TEXT NOT NULL DEFAULT 'dlib-resnet-v1';
ALTER TABLE purposes ADD COLUMN calibration_id INTEGER;
ALTER TABLE purposes ADD COLUMN next_pack TEXT;
ALTER TABLE purposes ADD COLUMN next_threshold {real};
ALTER TABLE purposes ADD COLUMN next_calibration_id INTEGER;
ALTER TABLE purposes ADD COLUMN migration_ends_at TEXT;

CREATE TABLE calibrations (
    id {id},
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    pack TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    population TEXT NOT NULL,
    lfw_derived INTEGER NOT NULL,
    dataset TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    target_fmr {real} NOT NULL,
    threshold {real} NOT NULL,
    genuine_pairs INTEGER NOT NULL,
    impostor_pairs INTEGER NOT NULL,
    impostor_distances TEXT NOT NULL,
    report TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX calibrations_purpose ON calibrations (purpose_key);
CREATE INDEX templates_purpose_pack ON templates (purpose_key, pack)
