-- Imports no longer update the per-type totals and reclassification marks in their own transactions (issue #4).
-- Why: with buyers in random order a batch's totals upserts and marks touch most pages of those two tables, which
-- profiled at about a quarter of the import writer's time per item (docs/benchmarks.md, "SQLite import: where the time
-- goes and what changed"). An import now only inserts the interaction rows; the totals and marks of every interaction
-- with a sequence above private_fold.folded_seq are folded in later, in large chunks read in sequence order, by the
-- background reclassification worker (SqliteBuyerStore.FoldPendingAsync). Reads stay exact at once: a buyer's count,
-- last sequence, per-type totals and ListInteractions' total add the buyer's rows above folded_seq (found through the
-- buyer's time index, and only while any row is above it). Single RecordInteraction calls fold their own row in their
-- transaction when nothing is pending, as before. The portable_* views read the folded tables: `storage copy-to-postgres`
-- folds everything pending before it copies.
-- private_fold holds one row; every interaction with seq <= folded_seq is in buyer_interaction_stats and marked.
CREATE TABLE private_fold (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    folded_seq INTEGER NOT NULL
);
INSERT INTO private_fold (id, folded_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM interactions;
