-- One index instead of two for a buyer's interactions by time. Why: an import's COPY into interactions spends about
-- 80% of PostgreSQL's time per row maintaining the secondary indexes, and a row with a note went into two of them
-- with the same key, interactions_buyer_time (every row) and the partial interactions_buyer_notes (rows with a
-- note). Putting "has a note" into the key, after the buyer, lets one index serve both queries: the profile's latest
-- notes read the buyer's has-a-note range backwards, and ListInteractions merges the two ranges of the buyer (two
-- ordered index scans under a Merge Append). A row with a note now costs one index entry instead of two; one
-- without a note costs what it did, and the entry is no wider (the 4-byte flag fits in the padding before seq).
-- The flag is an integer, not a boolean: PostgreSQL rewrites "(note IS NOT NULL) = false" into "note IS NULL",
-- which no longer matches a boolean index expression, while "(note IS NOT NULL)::int = 0" stays as written.
-- Queries must spell the expression exactly as below (PostgresBuyerStore.HasNote). Servers of the previous version
-- keep working while this applies and afterwards (their notes query reads the buyer's range and filters).
CREATE INDEX interactions_buyer_note_time ON interactions (buyer_key, ((note IS NOT NULL)::int), occurred_at, seq);
DROP INDEX interactions_buyer_time;
DROP INDEX interactions_buyer_notes;
ALTER INDEX interactions_buyer_note_time RENAME TO interactions_buyer_time;
