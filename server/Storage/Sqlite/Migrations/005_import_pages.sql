-- An import is bound by the pages it dirties (issue #4): with buyers in random order every per-buyer structure is
-- touched on a random page, each dirty page is written whole to the WAL at commit and copied again by the checkpoint.
-- Measured on 400,000 interactions for 100,000 buyers in 16,384-item batches (a sqlite3 replica of the import,
-- docs/benchmarks.md "Registry"): 3.4 KB of WAL per interaction before this migration, 1.3 KB after. Three changes:
-- 1. Times of interactions and per-type totals are INTEGER .NET ticks (100 ns since 0001-01-01 UTC; same precision
--    and order as the 28-character text they replace), which halves the per-buyer time index and the totals rows.
-- 2. Imports no longer update the buyer row (about 150 bytes, so a batch dirtied nearly every page of the buyers
--    table). A buyer's interaction count and last sequence are the sum and maximum of its per-type totals (at most
--    one row per type, adjacent in the WITHOUT ROWID table), and the reclassification mark is a row in the narrow
--    private_reclassify table.
-- 3. private_reclassify is SQLite's own bookkeeping (its contents are buyers.reclassify in the shared form):
--    tables named private_* are not copied by `storage copy-to-postgres`; portable_buyers derives the columns.

DROP VIEW portable_buyers;
DROP VIEW portable_interactions;
DROP VIEW portable_buyer_interaction_stats;

CREATE TABLE private_reclassify (
    buyer_key INTEGER PRIMARY KEY
);
INSERT INTO private_reclassify (buyer_key) SELECT key FROM buyers WHERE reclassify = 1;
DROP INDEX buyers_reclassify;
ALTER TABLE buyers DROP COLUMN reclassify;
ALTER TABLE buyers DROP COLUMN interaction_count;
ALTER TABLE buyers DROP COLUMN last_seq;

CREATE TABLE interactions_v5 (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    buyer_key       INTEGER NOT NULL,
    type            INTEGER NOT NULL,
    occurred_at     INTEGER NOT NULL,
    amount          REAL,
    currency        TEXT,
    channel         TEXT,
    note            TEXT,
    idempotency_key TEXT,
    create_time     INTEGER NOT NULL
);
-- Text 'yyyy-MM-ddTHH:mm:ss.fffffffZ' to ticks: whole seconds since 0001-01-01, times 10^7, plus the fraction's 7 digits.
INSERT INTO interactions_v5 (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time)
SELECT seq, id, buyer_key, type,
    (CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) + 62135596800) * 10000000 + CAST(substr(occurred_at, 21, 7) AS INTEGER),
    amount, currency, channel, note, idempotency_key,
    (CAST(strftime('%s', substr(create_time, 1, 19)) AS INTEGER) + 62135596800) * 10000000 + CAST(substr(create_time, 21, 7) AS INTEGER)
FROM interactions ORDER BY seq;
DROP TABLE interactions;
ALTER TABLE interactions_v5 RENAME TO interactions;
CREATE UNIQUE INDEX interactions_idempotency ON interactions (buyer_key, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX interactions_buyer_time ON interactions (buyer_key, occurred_at);
CREATE INDEX interactions_buyer_notes ON interactions (buyer_key, occurred_at) WHERE note IS NOT NULL;

CREATE TABLE buyer_interaction_stats_v5 (
    buyer_key    INTEGER NOT NULL,
    type         INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    amount_total REAL NOT NULL,
    amount_count INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (buyer_key, type)
) WITHOUT ROWID;
INSERT INTO buyer_interaction_stats_v5 (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq)
SELECT buyer_key, type, count, amount_total, amount_count,
    (CAST(strftime('%s', substr(first_at, 1, 19)) AS INTEGER) + 62135596800) * 10000000 + CAST(substr(first_at, 21, 7) AS INTEGER),
    first_seq,
    (CAST(strftime('%s', substr(last_at, 1, 19)) AS INTEGER) + 62135596800) * 10000000 + CAST(substr(last_at, 21, 7) AS INTEGER),
    last_seq
FROM buyer_interaction_stats;
DROP TABLE buyer_interaction_stats;
ALTER TABLE buyer_interaction_stats_v5 RENAME TO buyer_interaction_stats;

-- The shared form (the PostgreSQL schema's columns, times as text), read by `storage copy-to-postgres`.
-- Ticks to text: the seconds through strftime, the 7-digit fraction appended.
CREATE VIEW portable_buyers AS
SELECT b.id, b.display_name, b.name_key, b.industry, b.industry_key, b.market, b.external_id, b.aliases, b.notes, b.create_time, b.update_time, b.etag,
    b.kind, b.confidence, b.score, b.summary, b.rule_set_version, b.classify_time, b.classified_seq,
    (SELECT COALESCE(SUM(s.count), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = b.key) AS interaction_count,
    (SELECT COALESCE(MAX(s.last_seq), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = b.key) AS last_seq,
    EXISTS (SELECT 1 FROM private_reclassify r WHERE r.buyer_key = b.key) AS reclassify
FROM buyers b;
CREATE VIEW portable_interactions AS
SELECT i.seq, i.id, b.id AS buyer_id, i.type,
    strftime('%Y-%m-%dT%H:%M:%S', i.occurred_at / 10000000 - 62135596800, 'unixepoch') || '.' || printf('%07d', i.occurred_at % 10000000) || 'Z' AS occurred_at,
    i.amount, i.currency, i.channel, i.note, i.idempotency_key,
    strftime('%Y-%m-%dT%H:%M:%S', i.create_time / 10000000 - 62135596800, 'unixepoch') || '.' || printf('%07d', i.create_time % 10000000) || 'Z' AS create_time
FROM interactions i JOIN buyers b ON b.key = i.buyer_key;
CREATE VIEW portable_buyer_interaction_stats AS
SELECT b.id AS buyer_id, s.type, s.count, s.amount_total, s.amount_count,
    strftime('%Y-%m-%dT%H:%M:%S', s.first_at / 10000000 - 62135596800, 'unixepoch') || '.' || printf('%07d', s.first_at % 10000000) || 'Z' AS first_at,
    s.first_seq,
    strftime('%Y-%m-%dT%H:%M:%S', s.last_at / 10000000 - 62135596800, 'unixepoch') || '.' || printf('%07d', s.last_at % 10000000) || 'Z' AS last_at,
    s.last_seq
FROM buyer_interaction_stats s JOIN buyers b ON b.key = s.buyer_key;
