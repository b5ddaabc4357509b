-- facegate 0004: human review of 1:N hits and identification sessions (R19, R20).
-- A purpose configured for review turns each identification hit into a review
-- case; confirmation needs the profile's number of distinct authorised
-- reviewers. The probe image a review needs is kept only sealed, under a data
-- key of its own (wrapped by the key-encryption key), until the session's
-- cases are decided or its deadline passes; then the row is deleted
-- (secure_delete overwrites it).

CREATE TABLE review_settings (
    purpose_key TEXT PRIMARY KEY REFERENCES purposes (key),
    window_seconds INTEGER NOT NULL CHECK (window_seconds > 0),
    configured_by TEXT NOT NULL,
    configured_at TEXT NOT NULL
);

CREATE TABLE reviewers (
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    reviewer TEXT NOT NULL,
    authorised_by TEXT NOT NULL,
    authorised_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (purpose_key, reviewer)
);

CREATE TABLE identification_sessions (
    id TEXT PRIMARY KEY,
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    gallery TEXT NOT NULL,
    probe_ref TEXT NOT NULL,
    operator TEXT NOT NULL,
    faces INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT
);

CREATE TABLE review_cases (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES identification_sessions (id),
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    face INTEGER NOT NULL,
    subject_id TEXT NOT NULL,
    distance {real} NOT NULL,
    status TEXT NOT NULL,
    reviewers_required INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    decided_at TEXT
);
CREATE INDEX review_cases_status ON review_cases (status, deadline);
CREATE INDEX review_cases_subject ON review_cases (subject_id);

CREATE TABLE review_decisions (
    case_id TEXT NOT NULL REFERENCES review_cases (id),
    reviewer TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (case_id, reviewer)
);

CREATE TABLE review_probes (
    session_id TEXT PRIMARY KEY REFERENCES identification_sessions (id),
    kek_id TEXT NOT NULL,
    wrapped_key {blob} NOT NULL,
    media_type TEXT NOT NULL,
    image {blob} NOT NULL,
    created_at TEXT NOT NULL,
    deadline TEXT NOT NULL
);
