"""A sqlite3 replica of the classification log (migration 008) against two WITHOUT ROWID layouts and larger pages, to
see whether one B-tree fewer per row pays when the rows are ~300 bytes.

Usage: python3 docs/experiments/log_without_rowid_replica.py [VARIANT ...]
Writes one unmeasured and 2 measured rounds of 150 transactions of 512 rows (32-row INSERT statements, as
SqliteClassificationLogWriter does) with description-sized input and time-ordered ids into a file under
/tmp/log-without-rowid-replica, prints CPU µs per row (time.process_time: user and system, so the kernel's writes to
the WAL and the checkpoints count), then per B-tree its pages, interior pages and unused bytes (dbstat). Variants:
  rowid        migration 008: rowid table, id TEXT PRIMARY KEY (a unique index), integer time with an index
  idkey        WITHOUT ROWID, id the primary key, the time index kept: two B-trees
  timekey      WITHOUT ROWID, (time, id) the primary key (the readers' order), id UNIQUE: two B-trees
  rowid8k      as rowid with 8 KiB pages
  rowid16k     as rowid with 16 KiB pages
Measured 2026-11-29 (docs/benchmarks.md, "The classification log's rows: one B-tree fewer does not pay").
"""
import sqlite3
import sys

from log_replica import TEXT, fresh_database, insert_sql, time_rows

FOLDER = "/tmp/log-without-rowid-replica"
COLUMNS = ("time INTEGER NOT NULL, subject TEXT NOT NULL CHECK (subject = 'description' OR subject = 'profile' OR "
           "subject = 'buyer' OR subject = 'question'), input TEXT NOT NULL, buyer_id TEXT, kind TEXT NOT NULL, "
           "confidence REAL NOT NULL, score REAL NOT NULL, rule_set_version TEXT NOT NULL")
TABLES = {
    "rowid": f"CREATE TABLE classification_log (id TEXT PRIMARY KEY, {COLUMNS})",
    "idkey": f"CREATE TABLE classification_log (id TEXT PRIMARY KEY, {COLUMNS}) WITHOUT ROWID",
    "timekey": f"CREATE TABLE classification_log (id TEXT NOT NULL UNIQUE, {COLUMNS}, PRIMARY KEY (time, id)) WITHOUT ROWID",
}


def run(variant):
    db = fresh_database(FOLDER, variant)
    if variant.startswith("rowid") and variant != "rowid":
        # The page size is set before the first table; a WAL file keeps the size it was created with, so the file is
        # taken out of WAL mode for it and put back.
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute(f"PRAGMA page_size={int(variant[5:-1]) * 1024}")
        db.execute("VACUUM")
        db.execute("PRAGMA journal_mode=WAL")
    db.execute(TABLES["rowid" if variant.startswith("rowid") else variant])
    if variant != "timekey":
        db.execute("CREATE INDEX classification_log_time ON classification_log (time)")
    path = db.execute("PRAGMA database_list").fetchone()[2]

    def row(n):
        # Time-ordered ids and times, as the server's monotonic "c" ids and its clock give them.
        return [f"cls_{n:032x}", 17_640_000_000_000_000 + n * 400, "description", TEXT, None, "client", 0.8, 3.5, "rules-2026.11"]

    per_row = time_rows(db, insert_sql(), row)
    check = sqlite3.connect(path)
    trees = check.execute(
        "SELECT name, count(*), sum(pagetype = 'internal'), sum(unused) FROM dbstat GROUP BY name ORDER BY name").fetchall()
    size = check.execute("PRAGMA page_count").fetchone()[0] * check.execute("PRAGMA page_size").fetchone()[0]
    check.close()
    return per_row, trees, size


for name in sys.argv[1:] or ["rowid", "idkey", "timekey", "rowid8k", "rowid16k"]:
    per_row, trees, size = run(name)
    print(name, " ".join(f"{x:.2f}" for x in per_row), f"µs per row; file {size / 1e6:.1f} MB;",
          "; ".join(f"{t}: {pages} pages, {interior} interior, {unused / 1e6:.1f} MB unused" for t, pages, interior, unused in trees),
          flush=True)
