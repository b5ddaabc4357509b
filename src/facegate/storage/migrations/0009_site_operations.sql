-- facegate 0009: a site served by several processes at once.
-- gallery_changes: every write to templates appends (purpose, subject) in the same
-- transaction, so each process's in-memory gallery index follows the others'
-- enrollments, withdrawals, erasures and sweeps by reading what came after the
-- last sequence number it applied (a NULL subject: the purpose's whole gallery).
-- web_sessions: browser sessions, so that any process serves any request. The id
-- is the SHA-256 of the cookie's session id, and the session's data (CSRF token,
-- kiosk visit) is sealed under a key that only the cookie carries.
-- rate_buckets: the token buckets of the per-key and per-client rate limits.
-- leases: named leases (the scheduled retention sweep runs where it holds one).
-- webhook_endpoints: signed event deliveries registered by admins; the HMAC
-- secret is kept only wrapped by the key-encryption key.
-- webhook_outbox: one row per event and endpoint, written in the transaction of
-- the audit entry it comes from; delivered, retried with backoff, or given up.

CREATE TABLE gallery_changes (
    seq {id},
    purpose_key TEXT NOT NULL,
    subject_id TEXT,
    changed_at TEXT NOT NULL
);

CREATE INDEX gallery_changes_at ON gallery_changes (changed_at);

CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    key_id TEXT,
    sealed {blob} NOT NULL,
    created_at {real} NOT NULL,
    seen_at {real} NOT NULL,
    visit_seen_at {real}
);

CREATE INDEX web_sessions_key ON web_sessions (key_id);
CREATE INDEX web_sessions_seen ON web_sessions (seen_at);

CREATE TABLE rate_buckets (
    bucket TEXT PRIMARY KEY,
    tokens {real} NOT NULL,
    updated {real} NOT NULL
);

CREATE INDEX rate_buckets_updated ON rate_buckets (updated);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_at {real} NOT NULL,
    ran_at TEXT
);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    label TEXT NOT NULL,
    audience TEXT NOT NULL,
    types TEXT,
    purposes TEXT,
    sites TEXT,
    kek_id TEXT NOT NULL,
    wrapped_secret {blob} NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE webhook_outbox (
    id {id},
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt {real} NOT NULL,
    leased_until {real},
    delivered_at TEXT,
    failed_at TEXT,
    last_status TEXT,
    UNIQUE (endpoint_id, event_seq)
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, failed_at, next_attempt);

CREATE INDEX subjects_external_ref ON subjects (external_ref);
CREATE INDEX subjects_registered ON subjects (registered_at, id);
CREATE INDEX audit_events_at ON audit_events (at);
