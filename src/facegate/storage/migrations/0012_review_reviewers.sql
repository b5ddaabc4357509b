-- facegate 0012: how many distinct reviewers confirm an identification hit, per purpose.
-- NULL (every existing purpose) keeps the jurisdiction profile's minimum; a deployer may
-- ask for more (two under the EU AI Act, Art. 14(5), or by choice elsewhere), never fewer.

ALTER TABLE review_settings ADD COLUMN reviewers INTEGER CHECK (reviewers IS NULL OR reviewers BETWEEN 1 AND 5);
