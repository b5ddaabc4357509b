-- facegate 0002: protected storage.
-- Templates are sealed (AES-256-GCM) under a per-subject data key; the data
-- key is kept here only wrapped by a key-encryption key held outside the store.
-- Retained images (only with retain_image consent) are sealed the same way.
-- The audit log becomes a hash chain whose head is a signed checkpoint.

ALTER TABLE templates ADD COLUMN uid TEXT;
ALTER TABLE templates ADD COLUMN consent_seq INTEGER REFERENCES consent_events (seq);
CREATE UNIQUE INDEX templates_uid ON templates (uid);

CREATE TABLE subject_keys (
    subject_id TEXT PRIMARY KEY REFERENCES subjects (id),
    kek_id TEXT NOT NULL,
    wrapped {blob} NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE retained_images (
    uid TEXT PRIMARY KEY,
    template_uid TEXT NOT NULL,
    subject_id TEXT NOT NULL REFERENCES subjects (id),
    purpose_key TEXT NOT NULL REFERENCES purposes (key),
    media_type TEXT NOT NULL,
    image {blob} NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX retained_images_subject ON retained_images (subject_id);
CREATE INDEX retained_images_expiry ON retained_images (expires_at);

ALTER TABLE audit_events ADD COLUMN hash TEXT;

CREATE TABLE audit_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature {blob} NOT NULL,
    signed_at TEXT NOT NULL
);
