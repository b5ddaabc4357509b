-- facegate 0013: where the face of a review case lies in its probe image.
-- A review case names the face of the probe it came from by number; it now also keeps
-- that face's box (JSON [left, top, right, bottom] in the probe's pixels), so that a
-- reviewer is shown the face, cropped from the sealed probe, rather than a number.
-- Cases opened before have no box: their reviewer sees the whole probe.

ALTER TABLE review_cases ADD COLUMN face_box TEXT;
