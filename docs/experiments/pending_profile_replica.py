"""A sqlite3 replica of one buyer's pending rows (SQLite migration 006: imported, not folded into the totals yet), to see
what SQLite itself spends on each way of reading them for a profile.

Usage: python3 docs/experiments/pending_profile_replica.py [ROWS]
Builds the interactions table and its three indexes as the server's schema has them (migration 005), in a temporary
file, with ROWS (default 1,000) pending rows of one buyer, and times each statement (best of 300 runs, wall time):
  orderseq  the rows in sequence order with their ids (the read before 2026-11-29 05:05: a temporary B-tree sorts them)
  noorder   the rows in the time index's order with their sequence (the read since then)
  groupby   per-type count, amount total and count, first and last time, aggregated in SQL (a B-tree for GROUP BY;
            the first and last ids would need further lookups)
  count     the table rows visited and nothing returned: SQLite's floor for any read that needs type or amount
  countidx  the index alone (what a covering index would leave)
Python's own cost per returned row is in orderseq and noorder; the server reads rows through SQLitePCL with less.
"""
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid

rows_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
folder = tempfile.mkdtemp(prefix="pending-replica-")
db = sqlite3.connect(os.path.join(folder, "replica.db"))
db.executescript("""
CREATE TABLE buyers(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE private_fold(folded_seq INTEGER NOT NULL);
INSERT INTO private_fold VALUES (0);
CREATE TABLE interactions (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, buyer_key INTEGER NOT NULL, type INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL, amount REAL, currency TEXT, channel TEXT, note TEXT, idempotency_key TEXT, create_time INTEGER NOT NULL);
CREATE UNIQUE INDEX interactions_idempotency ON interactions (buyer_key, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX interactions_buyer_time ON interactions (buyer_key, occurred_at);
CREATE INDEX interactions_buyer_notes ON interactions (buyer_key, occurred_at) WHERE note IS NOT NULL;
""")
db.execute("INSERT INTO buyers VALUES (1, 'b_x')")
r = random.Random(7)
db.executemany("INSERT INTO interactions VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
    (i + 1, "i_" + uuid.UUID(int=r.getrandbits(128)).hex, 1, r.randrange(13) + 1, 638_000_000_000_000_000 + r.randrange(10**15),
     100.0 if i % 3 == 0 else None, "EUR" if i % 3 == 0 else None, "email", "note" if i % 7 == 0 else None, None, 638_000_000_000_000_000)
    for i in range(rows_wanted)])
db.commit()

pending = "FROM buyers JOIN interactions u INDEXED BY interactions_buyer_time ON u.buyer_key = buyers.key WHERE buyers.id = ?1 AND u.seq > (SELECT folded_seq FROM private_fold)"
queries = {
    "orderseq": "SELECT u.type, u.occurred_at, u.amount, u.id " + pending + " ORDER BY u.seq",
    "noorder": "SELECT u.type, u.occurred_at, u.amount, u.seq " + pending,
    "groupby": "SELECT u.type, COUNT(*), TOTAL(u.amount), COUNT(u.amount), MIN(u.occurred_at), MAX(u.occurred_at) " + pending + " GROUP BY u.type",
    "count": "SELECT COUNT(*), TOTAL(u.amount) " + pending,
    "countidx": "SELECT COUNT(*) " + pending,
}
for name, sql in queries.items():
    plan = "; ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, ("b_x",)))
    best = float("inf")
    for _ in range(300):
        start = time.perf_counter()
        db.execute(sql, ("b_x",)).fetchall()
        best = min(best, time.perf_counter() - start)
    print(f"{name:9} {best * 1e6:8.1f} us   {plan}")
db.close()
for name in os.listdir(folder):
    os.remove(os.path.join(folder, name))
os.rmdir(folder)
