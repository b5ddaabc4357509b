-- facegate 0014: named staff accounts, and review that can bar a purpose's own people.
-- staff_accounts: one row per person who signs in to the dashboard. The password is kept
-- as an argon2id hash; the TOTP secret only sealed under the key-encryption key, bound to
-- the account's id. The row is tagged like api_keys ("mac" over id, name, display_name,
-- role, purposes, sites, password_hash, created_by, created_at, disabled_at): an account
-- planted, a role raised, a scope widened, a hash swapped or a disabling undone without
-- the key file does not sign in. totp_step (the last accepted TOTP time step: a code is
-- never accepted twice), failures and locked_until (the sign-in lockout) change at every
-- sign-in and are not tagged.
CREATE TABLE staff_accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    purposes TEXT,
    sites TEXT,
    password_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT,
    kek_id TEXT NOT NULL,
    totp_sealed {blob} NOT NULL,
    totp_step INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until {real} NOT NULL DEFAULT 0,
    mac TEXT
);
INSERT INTO row_digests (name, row_count, digest) VALUES
    ('staff_accounts', 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- A purpose's review may bar the people who registered the purpose or ran the
-- identification from deciding its cases (R19: the verifying person is not the operating one).
ALTER TABLE review_settings ADD COLUMN bar_own INTEGER NOT NULL DEFAULT 0;
