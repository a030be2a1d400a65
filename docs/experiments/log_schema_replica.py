"""A sqlite3 replica of the classification log writer (SQLite), to see what SQLite itself spends per row on the table's
B-trees: the id's unique index, the time index, the key's and the time's form.

Usage: python3 docs/experiments/log_schema_replica.py [VARIANT ...]
Builds classification_log in a file under /tmp/log-schema-replica and writes 2 measured rounds (after one unmeasured)
of 150 transactions of 512 rows each, in 32-row INSERT statements as SqliteClassificationLogWriter does, with
description-sized input text and time-ordered ids. Prints CPU µs per row (time.process_time; Python's own binding cost
is in every variant alike, so compare differences). Variants:
  current      migration 007: id TEXT PRIMARY KEY (a unique index), time TEXT with an index, ON CONFLICT (id) DO NOTHING
  notimeidx    as current without the time index (readers order by rowid)
  inttime      as current with time as INTEGER (ticks) and its index
  blobid       the id as a 16-byte BLOB PRIMARY KEY, time index kept
  blobnotime   the id as a 16-byte BLOB PRIMARY KEY, no time index
  tableonly    no index at all (no uniqueness): the table's own B-tree only, the floor
Measured 2026-11-29 09:21-09:22 UTC (SQLite 3.40.1, load 12-14 on 2 cores), µs per row: current 3.12-3.59,
notimeidx 2.62-3.10, inttime 2.80-2.82, blobid 3.29-3.35, blobnotime 2.91-3.02, tableonly 2.32-2.51
(docs/benchmarks.md, "The classification log's cost per row").
"""
import sys

from log_replica import TEXT, fresh_database, insert_sql, text_time, time_rows

FOLDER = "/tmp/log-schema-replica"
CHECK = " CHECK (subject = 'description' OR subject = 'profile' OR subject = 'buyer' OR subject = 'question')"


def run(variant):
    db = fresh_database(FOLDER, variant)
    id_type = "BLOB" if variant.startswith("blob") else "TEXT"
    key = "" if variant == "tableonly" else " PRIMARY KEY"
    time_type = "INTEGER" if variant == "inttime" else "TEXT"
    db.execute(
        f"CREATE TABLE classification_log (id {id_type} NOT NULL{key}, time {time_type} NOT NULL, "
        f"subject TEXT NOT NULL{CHECK}, input TEXT NOT NULL, buyer_id TEXT, kind TEXT NOT NULL, "
        f"confidence REAL NOT NULL, score REAL NOT NULL, rule_set_version TEXT NOT NULL)")
    if variant in ("current", "inttime", "blobid"):
        db.execute("CREATE INDEX classification_log_time ON classification_log (time)")
    sql = insert_sql(conflict="" if variant == "tableonly" else " ON CONFLICT (id) DO NOTHING")

    def row(n):
        ident = bytes.fromhex(f"{n:032x}") if id_type == "BLOB" else f"c_{n:032x}"
        when = 638_000_000_000_000_000 + n * 200 if time_type == "INTEGER" else text_time(n)
        return [ident, when, "description", TEXT, None, "client", 0.8, 3.5, "rules-2026.11"]

    return time_rows(db, sql, row)


for name in sys.argv[1:] or ["current", "notimeidx", "inttime", "blobid", "blobnotime", "tableonly"]:
    print(name, " ".join(f"{x:.2f}" for x in run(name)), flush=True)
