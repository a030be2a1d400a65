-- Same tables as the SQLite schema; times are ISO-8601 UTC text in both, so the store code and the
-- data they hold are identical across providers.
-- Rule set versions: every draft and every published version, with its exact source.
CREATE TABLE rule_sets (
    version       TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('draft', 'live', 'retired')),
    source_yaml   TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    author        TEXT NOT NULL,
    base_version  TEXT,
    rule_count    INTEGER NOT NULL,
    problems_json TEXT,
    backtest_hash TEXT,
    create_time   TEXT NOT NULL,
    publish_time  TEXT
);

-- The one live rule set; the etag changes on every publish or rollback.
CREATE TABLE live_rule_set (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    TEXT NOT NULL REFERENCES rule_sets (version),
    etag       TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

-- Knowledge base versions seen at start, so answers can be traced to the text they came from.
CREATE TABLE knowledge_versions (
    version      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    loaded_at    TEXT NOT NULL,
    PRIMARY KEY (version, content_hash)
);

-- Every classification: what was asked, what was answered, under which rules.
CREATE TABLE classification_log (
    id               TEXT PRIMARY KEY,
    time             TEXT NOT NULL,
    subject          TEXT NOT NULL CHECK (subject IN ('description', 'profile', 'buyer', 'question')),
    input            TEXT NOT NULL,
    buyer_id         TEXT,
    kind             TEXT NOT NULL,
    confidence       DOUBLE PRECISION NOT NULL,
    score            DOUBLE PRECISION NOT NULL,
    rule_set_version TEXT NOT NULL
);
CREATE INDEX classification_log_time ON classification_log (time);

-- People's judgements of classifications, for rule owners to review.
CREATE TABLE feedback (
    id                TEXT PRIMARY KEY,
    request_id        TEXT UNIQUE,
    classification_id TEXT,
    buyer_id          TEXT,
    expected_kind     TEXT NOT NULL,
    reported_kind     TEXT,
    comment           TEXT,
    channel           TEXT,
    user_name         TEXT,
    create_time       TEXT NOT NULL
);
CREATE INDEX feedback_time ON feedback (create_time);

-- Who changed rules or keys, when, and from which version.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    time         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT,
    from_version TEXT,
    detail       TEXT
);
CREATE INDEX audit_log_time ON audit_log (time);
