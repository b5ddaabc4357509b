-- facegate 0001: the governed core.
-- Portable SQL. Dialect tokens are substituted by the runner:
--   {id}   an auto-numbered integer primary key
--   {blob} a binary column (BLOB in SQLite, BYTEA in PostgreSQL)
--   {real} a double-precision number (REAL in SQLite, DOUBLE PRECISION in PostgreSQL)
-- Times are ISO-8601 UTC text; dates are ISO-8601 text; booleans are 0/1.

CREATE TABLE processors (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    province TEXT NOT NULL,
    security_measures TEXT NOT NULL,
    registered_at TEXT NOT NULL
);

CREATE TABLE sites (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    site_type TEXT NOT NULL,
    public_place INTEGER NOT NULL,
    capture_zone TEXT,
    signage_attested INTEGER NOT NULL,
    registered_at TEXT NOT NULL
);

CREATE TABLE purposes (
    key TEXT PRIMARY KEY,
    site_key TEXT NOT NULL REFERENCES sites (key),
    description TEXT NOT NULL,
    necessity TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    modes TEXT NOT NULL,
    alternatives TEXT NOT NULL,
    mandate TEXT,
    retention_days INTEGER NOT NULL,
    storage_mode TEXT NOT NULL,
    liveness_required INTEGER NOT NULL,
    public_security INTEGER NOT NULL,
    threshold {real},
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE notices (
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (purpose_key, version)
);

CREATE TABLE assessments (
    id {id},
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    content TEXT NOT NULL,
    method_fingerprint TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    stale_since TEXT,
    stale_reason TEXT
);

CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    external_ref TEXT UNIQUE,
    birth_date TEXT,
    age_band TEXT,
    registered_at TEXT NOT NULL
);

CREATE TABLE consent_events (
    seq {id},
    subject_id TEXT NOT NULL REFERENCES subjects (id),
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    notice_version INTEGER,
    method TEXT NOT NULL,
    separate INTEGER NOT NULL,
    given_by TEXT NOT NULL,
    guardian_name TEXT,
    guardian_relation TEXT,
    operator TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consent_events_subject_purpose ON consent_events (subject_id, purpose_key, scope);

CREATE TABLE alternative_outcomes (
    id {id},
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    subject_id TEXT REFERENCES subjects (id),
    method TEXT NOT NULL,
    outcome TEXT NOT NULL,
    operator TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE TABLE templates (
    id {id},
    subject_id TEXT NOT NULL REFERENCES subjects (id),
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    site_key TEXT NOT NULL REFERENCES sites (key),
    pack TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    descriptor {blob} NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX templates_subject ON templates (subject_id);
CREATE INDEX templates_purpose ON templates (purpose_key);
CREATE INDEX templates_expiry ON templates (expires_at);

CREATE TABLE filing_records (
    id {id},
    kind TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    individuals INTEGER NOT NULL,
    threshold INTEGER,
    triggered_on TEXT NOT NULL,
    due_on TEXT,
    reason TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE audit_events (
    seq {id},
    at TEXT NOT NULL,
    name TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose_key TEXT,
    subject_id TEXT,
    outcome TEXT NOT NULL,
    rule TEXT,
    detail TEXT NOT NULL
);
