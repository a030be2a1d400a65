-- API keys: only a salted SHA-256 of each secret is kept. A name is unique among keys that are not revoked,
-- so a revoked key's name can be given to its replacement.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    salt        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    create_time TEXT NOT NULL,
    expire_time TEXT,
    revoke_time TEXT,
    created_by  TEXT NOT NULL
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoke_time IS NULL;
CREATE INDEX api_keys_create_time ON api_keys (create_time);
