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
import os
import sqlite3
import sys
import time

FOLDER = "/tmp/log-schema-replica"
CHECK = " CHECK (subject = 'description' OR subject = 'profile' OR subject = 'buyer' OR subject = 'question')"


def run(variant, rounds=2, batches=150):
    os.makedirs(FOLDER, exist_ok=True)
    path = os.path.join(FOLDER, f"{variant}.db")
    for f in (path, path + "-wal", path + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    id_type = "BLOB" if variant.startswith("blob") else "TEXT"
    key = "" if variant == "tableonly" else " PRIMARY KEY"
    time_type = "INTEGER" if variant == "inttime" else "TEXT"
    db.execute(
        f"CREATE TABLE classification_log (id {id_type} NOT NULL{key}, time {time_type} NOT NULL, "
        f"subject TEXT NOT NULL{CHECK}, input TEXT NOT NULL, buyer_id TEXT, kind TEXT NOT NULL, "
        f"confidence REAL NOT NULL, score REAL NOT NULL, rule_set_version TEXT NOT NULL)")
    if variant in ("current", "inttime", "blobid"):
        db.execute("CREATE INDEX classification_log_time ON classification_log (time)")
    conflict = "" if variant == "tableonly" else " ON CONFLICT (id) DO NOTHING"
    sql = ("INSERT INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES "
           + ", ".join(["(?,?,?,?,?,?,?,?,?)"] * 32) + conflict)
    text = ("Our law firm has advised them for years on a monthly retainer; we meet their partners every week "
            "and they trust our judgement. ") * 2
    n = 0
    per_row = []
    for r in range(rounds + 1):
        batches_params = []
        for _ in range(batches):
            rows = []
            for _ in range(512):
                n += 1
                ident = bytes.fromhex(f"{n:032x}") if id_type == "BLOB" else f"c_{n:032x}"
                when = 638_000_000_000_000_000 + n * 200 if time_type == "INTEGER" else \
                    f"2026-11-29T07:{n // 600000 % 60:02d}:{n // 10000 % 60:02d}.{n % 10000000:07d}Z"
                rows.append([ident, when, "description", text, None, "client", 0.8, 3.5, "rules-2026.11"])
            batches_params.append([[v for row in rows[k:k + 32] for v in row] for k in range(0, 512, 32)])
        started = time.process_time()
        for statements in batches_params:
            db.execute("BEGIN")
            for flat in statements:
                db.execute(sql, flat)
            db.execute("COMMIT")
        if r > 0:
            per_row.append((time.process_time() - started) / (batches * 512) * 1e6)
    db.close()
    return per_row


for name in sys.argv[1:] or ["current", "notimeidx", "inttime", "blobid", "blobnotime", "tableonly"]:
    print(name, " ".join(f"{x:.2f}" for x in run(name)), flush=True)
