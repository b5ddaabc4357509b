-- facegate 0008: the population a purpose serves.
-- A purpose's threshold comes from its own calibration if it has one, else from its
-- pack's shipped calibration for the population it serves, never from another
-- population's (R21). Existing purposes get their processor's jurisdiction's default
-- population (the Chinese profiles: East-Asian adults; the others: LFW View 1, the
-- only other population with shipped calibrations); they keep their model pack.

ALTER TABLE purposes ADD COLUMN population TEXT NOT NULL DEFAULT 'east-asian-adults';
UPDATE purposes SET population = 'lfw-view1'
    WHERE (SELECT jurisdiction FROM processors WHERE id = 1) NOT IN ('cn-2025', 'cn-2023-draft');
