"""What the classification log replicas (log_check_replica.py, log_schema_replica.py) share: a fresh WAL database file
per variant, and the timed loop that writes rows as SqliteClassificationLogWriter does (transactions of 512 rows in
32-row INSERT statements) and returns the CPU µs per row of each measured round."""
import os
import sqlite3
import time

# Description-sized input text (about 240 characters), as the load tool's descriptions are.
TEXT = ("Our law firm has advised them for years on a monthly retainer; we meet their partners every week "
        "and they trust our judgement. ") * 2


def fresh_database(folder, variant):
    """A new database file for one variant under folder, in WAL mode with synchronous=NORMAL as the server opens it."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{variant}.db")
    for f in (path, path + "-wal", path + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def insert_sql(verb="INSERT INTO", conflict=" ON CONFLICT (id) DO NOTHING"):
    """The writer's 32-row statement over the log's nine columns."""
    return (f"{verb} classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES "
            + ", ".join(["(?,?,?,?,?,?,?,?,?)"] * 32) + conflict)


def time_rows(db, sql, make_row, rounds=2, batches=150):
    """Writes one unmeasured and `rounds` measured rounds of `batches` transactions; make_row(n) gives row n's nine
    values (n counts from 1 across rounds). Rows are built before each round's clock starts. Closes db."""
    n = 0
    per_row = []
    for r in range(rounds + 1):
        batches_params = []
        for _ in range(batches):
            rows = []
            for _ in range(512):
                n += 1
                rows.append(make_row(n))
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


def text_time(n):
    """Row n's time as the fixed-width text migrations 001-007 stored."""
    return f"2026-11-29T07:{n // 600000 % 60:02d}:{n // 10000 % 60:02d}.{n % 10000000:07d}Z"
