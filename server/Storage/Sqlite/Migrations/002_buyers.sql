-- The buyer registry (see Storage/BuyerStore.cs for the contract each table serves).

-- Buyers with their latest classification. name_key is the display name lower-cased with whitespace
-- collapsed: the sort key of ListBuyers and the key of exact-name matching. industry_key likewise for the filter.
-- interaction_count, last_seq and reclassify are maintained by every interaction insert; reclassify = 1 means the
-- facts changed since classified_seq and the background worker should classify the buyer again.
CREATE TABLE buyers (
    id                TEXT PRIMARY KEY,
    display_name      TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    industry          TEXT,
    industry_key      TEXT,
    market            INTEGER NOT NULL DEFAULT 0,
    external_id       TEXT UNIQUE,
    aliases           TEXT NOT NULL DEFAULT '[]',
    notes             TEXT,
    create_time       TEXT NOT NULL,
    update_time       TEXT NOT NULL,
    etag              TEXT NOT NULL,
    kind              TEXT,
    confidence        REAL,
    score             REAL,
    summary           TEXT,
    rule_set_version  TEXT,
    classify_time     TEXT,
    classified_seq    INTEGER NOT NULL DEFAULT 0,
    interaction_count INTEGER NOT NULL DEFAULT 0,
    last_seq          INTEGER NOT NULL DEFAULT 0,
    reclassify        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX buyers_name ON buyers (name_key, id);
CREATE INDEX buyers_kind_name ON buyers (kind, name_key, id);
CREATE INDEX buyers_industry_name ON buyers (industry_key, name_key, id);
CREATE INDEX buyers_reclassify ON buyers (id) WHERE reclassify = 1;

-- Every name a buyer goes by (display name and aliases), normalised like name_key, for exact matching.
CREATE TABLE buyer_names (
    name_key TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    PRIMARY KEY (name_key, buyer_id)
) WITHOUT ROWID;
CREATE INDEX buyer_names_buyer ON buyer_names (buyer_id);

-- Interactions. seq (the rowid) orders them by storage and drives "since the last classification";
-- ids are UUIDv7 text made by the writer, unique by construction, so they need no index of their own.
CREATE TABLE interactions (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    buyer_id        TEXT NOT NULL,
    type            INTEGER NOT NULL,
    occurred_at     TEXT NOT NULL,
    amount          REAL,
    currency        TEXT,
    channel         TEXT,
    note            TEXT,
    idempotency_key TEXT,
    create_time     TEXT NOT NULL
);
CREATE UNIQUE INDEX interactions_idempotency ON interactions (buyer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX interactions_buyer_time ON interactions (buyer_id, occurred_at, seq);
CREATE INDEX interactions_buyer_notes ON interactions (buyer_id, occurred_at, seq) WHERE note IS NOT NULL;

-- Running totals per buyer and interaction type, updated with each insert so classification never scans history.
-- first_seq/last_seq point at the interactions (by seq, so the row stays small); ids are read by rowid when needed.
CREATE TABLE buyer_interaction_stats (
    buyer_id     TEXT NOT NULL,
    type         INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    amount_total REAL NOT NULL,
    amount_count INTEGER NOT NULL,
    first_at     TEXT NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_at      TEXT NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (buyer_id, type)
) WITHOUT ROWID;

-- Request ids of CreateBuyer and RecordInteraction, so a retry is answered with the first result.
CREATE TABLE request_ids (
    operation    TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    resource_seq INTEGER,
    create_time  TEXT NOT NULL,
    PRIMARY KEY (operation, request_id)
) WITHOUT ROWID;

-- Each buyer's past classifications; kind_changed marks the entries ListClassificationChanges returns.
-- interaction_ids is a JSON array of the interactions stored since the previous classification.
CREATE TABLE classification_history (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    buyer_id         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    previous_kind    TEXT,
    kind_changed     INTEGER NOT NULL,
    confidence       REAL NOT NULL,
    score            REAL NOT NULL,
    summary          TEXT NOT NULL,
    rule_set_version TEXT NOT NULL,
    time             TEXT NOT NULL,
    interaction_ids  TEXT NOT NULL
);
CREATE INDEX classification_history_buyer ON classification_history (buyer_id, seq);
CREATE INDEX classification_history_changes ON classification_history (seq) WHERE kind_changed = 1;
CREATE INDEX classification_history_buyer_changes ON classification_history (buyer_id, seq) WHERE kind_changed = 1;

-- Change feed for the in-memory name index: one row per create, update or delete of a buyer.
CREATE TABLE buyer_changes (
    seq      INTEGER PRIMARY KEY,
    buyer_id TEXT NOT NULL
);
