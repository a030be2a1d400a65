"""A sqlite3 replica of the server's SQLite import, to see what each per-buyer structure costs per row.

Usage: python3 docs/experiments/sqlite_import_replica.py VARIANT [ROWS] [BATCH]
VARIANT is one of: rows (the table alone), time (+ the buyer/time index), idempotency (+ only the idempotency index),
indexes (all three interaction indexes: the import's transaction since SQLite migration 006, which folds totals and
marks in later), full (indexes + per-type totals upsert + reclassify marks: the import's transaction before 006),
buyer-totals (indexes + marks, with one totals row per buyer holding every type's totals in a blob, read and rewritten),
no-notes (the idempotency and time indexes without the partial notes index), multi (the three indexes, 32 rows per
INSERT with RETURNING seq, so that each row's duplicate status is still known).
Prints the CPU time per row spent in SQLite (the inserts and commits; generating rows is not counted). Same settings as
the server's import: WAL, synchronous NORMAL, 32 MiB cache, automatic checkpoint off, checkpoint past 64 MiB of WAL.
Rows go in buyer order within a batch, as the server writes them; 100,000 buyers in random order across batches.
"""
import os
import random
import sqlite3
import sys
import tempfile
import time

variant = sys.argv[1]
rows_total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 16_384
buyers = 100_000

path = os.path.join(tempfile.mkdtemp(), "replica.db")
db = sqlite3.connect(path, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-32768", "wal_autocheckpoint=0"):
    db.execute("PRAGMA " + pragma)

db.execute("""CREATE TABLE interactions (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, buyer_key INTEGER NOT NULL,
    type INTEGER NOT NULL, occurred_at INTEGER NOT NULL, amount REAL, currency TEXT, channel TEXT, note TEXT,
    idempotency_key TEXT, create_time INTEGER NOT NULL)""")
if variant in ("idempotency", "indexes", "full", "buyer-totals", "no-notes", "multi"):
    db.execute("CREATE UNIQUE INDEX interactions_idempotency ON interactions (buyer_key, idempotency_key) WHERE idempotency_key IS NOT NULL")
if variant in ("time", "indexes", "full", "buyer-totals", "no-notes", "multi"):
    db.execute("CREATE INDEX interactions_buyer_time ON interactions (buyer_key, occurred_at)")
if variant in ("indexes", "full", "buyer-totals", "multi"):
    db.execute("CREATE INDEX interactions_buyer_notes ON interactions (buyer_key, occurred_at) WHERE note IS NOT NULL")
if variant == "buyer-totals":
    db.execute("CREATE TABLE buyer_totals (buyer_key INTEGER PRIMARY KEY, totals BLOB NOT NULL)")
    db.execute("CREATE TABLE marks (buyer_key INTEGER PRIMARY KEY)")
if variant == "full":
    db.execute("""CREATE TABLE totals (buyer_key INTEGER NOT NULL, type INTEGER NOT NULL, count INTEGER NOT NULL,
        first_at INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_at INTEGER NOT NULL, last_seq INTEGER NOT NULL,
        PRIMARY KEY (buyer_key, type)) WITHOUT ROWID""")
    db.execute("CREATE TABLE marks (buyer_key INTEGER PRIMARY KEY)")

insert = ("INSERT INTO interactions (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
multi_insert = ("INSERT INTO interactions (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * 32) + " ON CONFLICT DO NOTHING RETURNING seq")
upsert = ("INSERT INTO totals VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (buyer_key, type) DO UPDATE SET "
          "count = count + excluded.count, last_at = MAX(last_at, excluded.last_at), last_seq = excluded.last_seq")

rng = random.Random(42)
now = 639_000_000_000_000_000
seq = 0
cpu = 0.0
done = 0
while done < rows_total:
    n = min(batch_size, rows_total - done)
    batch = []
    for _ in range(n):
        seq += 1
        kind = rng.randrange(12)
        goods = kind < 3
        batch.append((seq, "in_%016x" % rng.getrandbits(64), rng.randrange(buyers), kind, now - rng.randrange(10**15),
                      float(rng.randrange(10, 5000)) if goods else None, "EUR" if goods else None, "web",
                      "asked about delivery and the quarterly review" if seq % 10 == 0 else None, "k%d" % seq, now))
    batch.sort(key=lambda r: r[2])
    totals = {}
    if variant == "full":
        for r in batch:
            t = totals.get((r[2], r[3]))
            totals[(r[2], r[3])] = (r[2], r[3], (t[2] if t else 0) + 1, r[4], r[0], r[4], r[0])
    started = time.process_time()
    db.execute("BEGIN")
    if variant == "multi":
        # Rows per statement, with RETURNING seq: the rows not returned are the duplicates, so each is still known.
        per = 32
        many = db.cursor()
        for start in range(0, len(batch) - len(batch) % per, per):
            flat = [v for r in batch[start:start + per] for v in r]
            many.execute(multi_insert, flat).fetchall()
        db.executemany(insert, batch[len(batch) - len(batch) % per:])
    else:
        db.executemany(insert, batch)
    if variant == "full":
        db.executemany(upsert, list(totals.values()))
        db.executemany("INSERT OR IGNORE INTO marks VALUES (?)", [(b,) for b in {r[2] for r in batch}])
    if variant == "buyer-totals":
        # 8 bytes per field, 7 fields per type; the merge itself is Python's time and counted, so this is an upper bound.
        read = db.cursor()
        for b in sorted({r[2] for r in batch}):
            old = read.execute("SELECT totals FROM buyer_totals WHERE buyer_key = ?", (b,)).fetchone()
            blob = (old[0] if old else b"") + bytes(56)
            db.execute("INSERT OR REPLACE INTO buyer_totals VALUES (?, ?)", (b, blob[:12 * 56]))
        db.executemany("INSERT OR IGNORE INTO marks VALUES (?)", [(b,) for b in {r[2] for r in batch}])
    db.execute("COMMIT")
    if os.path.getsize(path + "-wal") > 64 << 20:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cpu += time.process_time() - started
    done += n

print(f"{variant}: {rows_total:,} rows in batches of {batch_size:,}: {cpu / rows_total * 1e6:.1f} µs of CPU per row in SQLite")
