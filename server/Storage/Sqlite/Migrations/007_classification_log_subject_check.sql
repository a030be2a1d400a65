-- The classification log's subject CHECK written as comparisons instead of an IN list (issue #8). Why: SQLite evaluates
-- `subject IN ('description', ...)` through an ephemeral index that it builds again for every row inserted, and every
-- ClassifyBuyer writes a row: about 0.5 µs of the log writer's CPU per row, a seventh of it (docs/benchmarks.md,
-- "ClassifyBuyer outside the classification"). The comparisons accept exactly the same four values. SQLite cannot change
-- a table's CHECK in place, so the table is rebuilt once, with the same columns, rows and index.
CREATE TABLE classification_log_rebuilt (
    id               TEXT PRIMARY KEY,
    time             TEXT NOT NULL,
    subject          TEXT NOT NULL CHECK (subject = 'description' OR subject = 'profile' OR subject = 'buyer' OR subject = 'question'),
    input            TEXT NOT NULL,
    buyer_id         TEXT,
    kind             TEXT NOT NULL,
    confidence       REAL NOT NULL,
    score            REAL NOT NULL,
    rule_set_version TEXT NOT NULL
);
INSERT INTO classification_log_rebuilt (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version)
SELECT id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version FROM classification_log ORDER BY rowid;
DROP TABLE classification_log;
ALTER TABLE classification_log_rebuilt RENAME TO classification_log;
CREATE INDEX classification_log_time ON classification_log (time);
