-- The classification log's time as an integer on SQLite: 100 ns units since 1970-01-01 UTC, instead of ISO-8601 text
-- (issue #8). Why: every ClassifyBuyer writes a row, and its time was formatted as 28 characters of text per row and
-- kept in the time index as that text; as an integer it is bound as it is and its index entry is a few bytes
-- (docs/benchmarks.md, "The classification log's cost per row"). The order is the same: the text had fixed width and
-- sorted as the time does. PostgreSQL keeps the text, and `storage copy-to-postgres` reads this table through
-- portable_classification_log, which gives the time back as the same text.
CREATE TABLE classification_log_rebuilt (
    id               TEXT PRIMARY KEY,
    time             INTEGER NOT NULL,
    subject          TEXT NOT NULL CHECK (subject = 'description' OR subject = 'profile' OR subject = 'buyer' OR subject = 'question'),
    input            TEXT NOT NULL,
    buyer_id         TEXT,
    kind             TEXT NOT NULL,
    confidence       REAL NOT NULL,
    score            REAL NOT NULL,
    rule_set_version TEXT NOT NULL
);
-- The server wrote every time as 'YYYY-MM-DDTHH:MM:SS.fffffffZ', converted exactly; any other form SQLite can read is
-- converted at the millisecond, and one it cannot read fails the migration (NOT NULL) rather than losing the row's time.
INSERT INTO classification_log_rebuilt (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version)
SELECT id,
       CASE WHEN length(time) = 28 AND time GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9][0-9]Z'
            THEN CAST(strftime('%s', substr(time, 1, 19)) AS INTEGER) * 10000000 + CAST(substr(time, 21, 7) AS INTEGER)
            ELSE CAST(round((julianday(time) - 2440587.5) * 86400000) AS INTEGER) * 10000
       END,
       subject, input, buyer_id, kind, confidence, score, rule_set_version
FROM classification_log ORDER BY rowid;
DROP TABLE classification_log;
ALTER TABLE classification_log_rebuilt RENAME TO classification_log;
CREATE INDEX classification_log_time ON classification_log (time);
-- The shared form (PostgreSQL's columns), for `storage copy-to-postgres`: the time as the text the server writes.
CREATE VIEW portable_classification_log AS
SELECT id,
       strftime('%Y-%m-%dT%H:%M:%S', time / 10000000 - (time % 10000000 < 0), 'unixepoch') || '.' ||
           printf('%07d', (time % 10000000 + 10000000) % 10000000) || 'Z' AS time,
       subject, input, buyer_id, kind, confidence, score, rule_set_version
FROM classification_log;
