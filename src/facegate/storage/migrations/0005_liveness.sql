-- facegate 0005: liveness challenges and receipts.
-- A challenge is issued for one purpose and site, expires after a short time
-- and can be answered once: used_at is set, atomically, by the first answer.
-- A passed check leaves a receipt that one enroll or verify of that purpose
-- may consume, once, before it expires. Neither table holds an image,
-- landmarks or a descriptor; the scores of each check are in the audit log.

CREATE TABLE liveness_challenges (
    id TEXT PRIMARY KEY,
    nonce TEXT NOT NULL UNIQUE,
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    site_key TEXT NOT NULL,
    actions TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE liveness_receipts (
    id TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL REFERENCES liveness_challenges (id),
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_for TEXT
);
