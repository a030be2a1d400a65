-- Child tables refer to a buyer by an integer key instead of its 34-character text id.
-- Why: an import inserts interactions for buyers in random order, so every per-buyer index entry lands on a
-- random page, and the cost of a batch is the number of pages it dirties (each written whole to the WAL at commit).
-- An integer key (a 1-3 byte varint) makes those index entries about a third of the size, so the indexes are
-- a third as many pages and a batch touches and writes far fewer of them. The key is an explicit
-- INTEGER PRIMARY KEY (not the implicit rowid) because VACUUM may renumber an implicit rowid.

CREATE TABLE buyers_v4 (
    key               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
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
INSERT INTO buyers_v4 (id, display_name, name_key, industry, industry_key, market, external_id, aliases, notes, create_time, update_time, etag,
    kind, confidence, score, summary, rule_set_version, classify_time, classified_seq, interaction_count, last_seq, reclassify)
SELECT id, display_name, name_key, industry, industry_key, market, external_id, aliases, notes, create_time, update_time, etag,
    kind, confidence, score, summary, rule_set_version, classify_time, classified_seq, interaction_count, last_seq, reclassify
FROM buyers ORDER BY rowid;
DROP TABLE buyers;
ALTER TABLE buyers_v4 RENAME TO buyers;
-- ListBuyers filters by kind and industry while walking buyers_name in order (its "@x IS NULL OR" filters cannot
-- use an index on kind or industry, EXPLAIN QUERY PLAN shows), so buyers_kind_name and buyers_industry_name of
-- migration 002 only cost writes and are not recreated.
CREATE INDEX buyers_name ON buyers (name_key, id);
CREATE INDEX buyers_reclassify ON buyers (key) WHERE reclassify = 1;

-- The rowid (seq) ends every index entry already, so the indexes no longer list it as a column.
CREATE TABLE interactions_v4 (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    buyer_key       INTEGER NOT NULL,
    type            INTEGER NOT NULL,
    occurred_at     TEXT NOT NULL,
    amount          REAL,
    currency        TEXT,
    channel         TEXT,
    note            TEXT,
    idempotency_key TEXT,
    create_time     TEXT NOT NULL
);
INSERT INTO interactions_v4 (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time)
SELECT i.seq, i.id, b.key, i.type, i.occurred_at, i.amount, i.currency, i.channel, i.note, i.idempotency_key, i.create_time
FROM interactions i JOIN buyers b ON b.id = i.buyer_id;
DROP TABLE interactions;
ALTER TABLE interactions_v4 RENAME TO interactions;
CREATE UNIQUE INDEX interactions_idempotency ON interactions (buyer_key, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX interactions_buyer_time ON interactions (buyer_key, occurred_at);
CREATE INDEX interactions_buyer_notes ON interactions (buyer_key, occurred_at) WHERE note IS NOT NULL;

CREATE TABLE buyer_interaction_stats_v4 (
    buyer_key    INTEGER NOT NULL,
    type         INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    amount_total REAL NOT NULL,
    amount_count INTEGER NOT NULL,
    first_at     TEXT NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_at      TEXT NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (buyer_key, type)
) WITHOUT ROWID;
INSERT INTO buyer_interaction_stats_v4 (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq)
SELECT b.key, s.type, s.count, s.amount_total, s.amount_count, s.first_at, s.first_seq, s.last_at, s.last_seq
FROM buyer_interaction_stats s JOIN buyers b ON b.id = s.buyer_id;
DROP TABLE buyer_interaction_stats;
ALTER TABLE buyer_interaction_stats_v4 RENAME TO buyer_interaction_stats;

-- The shared form of these tables (the PostgreSQL schema's columns), read by `storage copy-to-postgres`.
CREATE VIEW portable_buyers AS
SELECT id, display_name, name_key, industry, industry_key, market, external_id, aliases, notes, create_time, update_time, etag,
    kind, confidence, score, summary, rule_set_version, classify_time, classified_seq, interaction_count, last_seq, reclassify
FROM buyers;
CREATE VIEW portable_interactions AS
SELECT i.seq, i.id, b.id AS buyer_id, i.type, i.occurred_at, i.amount, i.currency, i.channel, i.note, i.idempotency_key, i.create_time
FROM interactions i JOIN buyers b ON b.key = i.buyer_key;
CREATE VIEW portable_buyer_interaction_stats AS
SELECT b.id AS buyer_id, s.type, s.count, s.amount_total, s.amount_count, s.first_at, s.first_seq, s.last_at, s.last_seq
FROM buyer_interaction_stats s JOIN buyers b ON b.key = s.buyer_key;
