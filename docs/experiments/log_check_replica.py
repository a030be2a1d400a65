"""A sqlite3 replica of the classification log writer (SQLite), to see what SQLite itself spends per row on the table's
constraints and layout.

Usage: python3 docs/experiments/log_check_replica.py [VARIANT ...]
Builds classification_log as migration 001 did (rowid table, TEXT primary key, time index) in a file under
/tmp/log-check-replica, and writes 2 measured rounds (after one unmeasured) of 150 transactions of 512 rows each, in
32-row INSERT ... ON CONFLICT (id) DO NOTHING statements as SqliteClassificationLogWriter does, with description-sized
input text. Prints CPU µs per row (time.process_time; Python's own binding cost is in every variant alike). Variants:
  current      subject CHECK as an IN list (migrations 001-006)
  checkor      subject CHECK as comparisons (migration 007)
  nocheck      no CHECK at all (the floor for the CHECK)
  ignorecheck  the IN list with PRAGMA ignore_check_constraints = ON
  orignore     INSERT OR IGNORE instead of ON CONFLICT (id) DO NOTHING
  norowid      the table WITHOUT ROWID (keyed by id)
Measured 2026-11-29 08:19 UTC (SQLite 3.40.1, load ~10 on 2 cores): current 3.60-3.67, checkor 3.01-3.08,
nocheck 2.95-2.98, ignorecheck 2.91-3.03, orignore 3.51-3.78, norowid 4.00-4.14 µs per row.
"""
import sys

from log_replica import TEXT, fresh_database, insert_sql, text_time, time_rows

FOLDER = "/tmp/log-check-replica"
CHECKS = {
    "checkor": " CHECK (subject = 'description' OR subject = 'profile' OR subject = 'buyer' OR subject = 'question')",
    "nocheck": "",
}
IN_LIST = " CHECK (subject IN ('description', 'profile', 'buyer', 'question'))"


def run(variant):
    db = fresh_database(FOLDER, variant)
    if variant == "ignorecheck":
        db.execute("PRAGMA ignore_check_constraints = ON")
    check = CHECKS.get(variant, IN_LIST)
    without_rowid = " WITHOUT ROWID" if variant == "norowid" else ""
    db.execute(
        "CREATE TABLE classification_log (id TEXT PRIMARY KEY, time TEXT NOT NULL, "
        f"subject TEXT NOT NULL{check}, input TEXT NOT NULL, buyer_id TEXT, kind TEXT NOT NULL, "
        f"confidence REAL NOT NULL, score REAL NOT NULL, rule_set_version TEXT NOT NULL){without_rowid}")
    db.execute("CREATE INDEX classification_log_time ON classification_log (time)")
    sql = (insert_sql("INSERT OR IGNORE INTO", "") if variant == "orignore" else insert_sql())
    return time_rows(db, sql, lambda n: [f"c_{n:032x}", text_time(n), "description", TEXT, None, "client", 0.8, 3.5, "rules-2026.11"])


for name in sys.argv[1:] or ["current", "checkor", "nocheck", "ignorecheck", "orignore", "norowid"]:
    print(name, " ".join(f"{x:.2f}" for x in run(name)), flush=True)
