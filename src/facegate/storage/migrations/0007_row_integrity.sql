-- facegate 0007: every protected row carries a tag, and the signed checkpoint covers the tables.
-- Each template, consent event and audit entry gets an HMAC-SHA256 tag ("mac") under a
-- key derived from the audit signing key, which the store never holds: a row written or
-- changed without the key file does not verify. row_digests keeps, per protected table,
-- the number of rows and the sum of their tags (mod 2^256); the audit checkpoint signs
-- that state ("state") with the log's head, so a row deleted, restored from a backup or
-- added behind facegate's back shows. A store written before this migration has no tags:
-- it is refused until a key holder runs `facegate store upgrade`, once.

ALTER TABLE templates ADD COLUMN mac TEXT;
ALTER TABLE consent_events ADD COLUMN mac TEXT;
ALTER TABLE audit_events ADD COLUMN mac TEXT;
ALTER TABLE audit_checkpoint ADD COLUMN state TEXT;
-- API keys are tagged too: a key row written without the key file (an admin key whose
-- secret the writer knows, a scope widened, a revocation undone) does not authenticate.
ALTER TABLE api_keys ADD COLUMN mac TEXT;

-- subject_digests keeps, per subject, how many consent events it has and the sum of their
-- tags, itself tagged: reading a subject's ledger checks that none of its events was
-- moved to another subject or purpose (which a table-wide count and sum cannot show).
CREATE TABLE subject_digests (
    subject_id TEXT PRIMARY KEY,
    consents INTEGER NOT NULL,
    consent_sum TEXT NOT NULL,
    mac TEXT
);

CREATE TABLE row_digests (
    name TEXT PRIMARY KEY,
    row_count INTEGER NOT NULL,
    digest TEXT NOT NULL
);
INSERT INTO row_digests (name, row_count, digest) VALUES
    ('consent_events', 0, '0000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO row_digests (name, row_count, digest) VALUES
    ('templates', 0, '0000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO row_digests (name, row_count, digest) VALUES
    ('subject_digests', 0, '0000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO row_digests (name, row_count, digest) VALUES
    ('api_keys', 0, '0000000000000000000000000000000000000000000000000000000000000000');
