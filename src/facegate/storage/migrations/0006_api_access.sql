-- facegate 0006: the service's API keys and idempotent requests.
-- A key is stored only as the SHA-256 of its secret (the secret is 256 random
-- bits, shown once when issued). Each key has one role and, optionally, a
-- scope of purposes and sites (JSON lists; NULL means every one). A subject's
-- own token is a key of role 'subject' bound to that subject.
-- An idempotent request keeps the response it was first answered with (no
-- image, no descriptor: only what the API returned) under the key that sent it.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    purposes TEXT,
    sites TEXT,
    subject_id TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE idempotent_requests (
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
