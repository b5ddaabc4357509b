-- facegate 0010: cameras, governed recognition on live video.
-- cameras: one row per camera (site, purposes as a JSON list, mode, placement, the
-- record of its sign); its stream source, which may hold credentials, is kept only
-- sealed under the key-encryption key (bound to the camera's id), and shown only in
-- its redacted form (source_shown).
-- camera_streams: the stream each camera should run ('run', 'watch' for one started
-- from the command line, or 'stop'), which process holds it (a lease it renews),
-- its state and its counts (faces seen, tracks, matches...; never a face, a crop or a
-- descriptor), so that any process of the service answers for every camera.

CREATE TABLE cameras (
    id TEXT PRIMARY KEY,
    site_key TEXT NOT NULL REFERENCES sites (key),
    purposes TEXT NOT NULL,
    mode TEXT NOT NULL,
    placement TEXT NOT NULL,
    label TEXT NOT NULL,
    signage TEXT,
    source_shown TEXT,
    kek_id TEXT,
    source_sealed {blob},
    registered_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE TABLE camera_streams (
    camera_id TEXT PRIMARY KEY REFERENCES cameras (id),
    wanted TEXT NOT NULL,
    requested_by TEXT,
    session_id TEXT,
    state TEXT NOT NULL,
    holder TEXT,
    lease_until {real},
    started_at TEXT,
    updated_at TEXT,
    counts TEXT NOT NULL,
    error TEXT
);
