using System.ComponentModel.DataAnnotations;

namespace Advisor.Server.Buyers;

/// <summary>Buyer registry settings (configuration section <c>Buyers</c>).</summary>
public sealed class BuyerOptions
{
    public const string Section = "Buyers";

    /// <summary>
    /// Most import items committed in one transaction. Larger batches amortise the commit; smaller ones ack sooner.
    /// A batch costs the index and totals pages it dirties, and with buyers in random order a larger batch dirties fewer
    /// pages per item: 16,384 took 25% less CPU per item than 4,096 at 30,000 buyers, and 65,536 took 25-28% less than
    /// 16,384 at 100,000 buyers (docs/benchmarks.md, "SQLite import: batch size"). The price is memory while a large
    /// import runs: a stream holds up to two batches (one committing, one arriving), and the server's peak RSS in the
    /// 1,000,000-item benchmark rose from about 255 MB to 340 MB (100,000 per batch: 430-455 MB, for 5-10% less CPU).
    /// </summary>
    [Range(1, 100_000)]
    public int ImportBatchSize { get; set; } = 65_536;

    /// <summary>
    /// Most import items one transaction takes, in batches of at most <see cref="ImportBatchSize"/>: after a batch, the
    /// transaction takes the next one if its items have already arrived (it never waits for the client), and commits and
    /// acknowledges them all together. Why: the SQLite store writes every page a transaction dirtied once per commit, and
    /// with buyers in random order each batch dirties nearly every page of the per-buyer indexes, so four batches per
    /// commit write those pages a quarter as often, while memory still holds two batches of items, not two transactions'
    /// worth (docs/benchmarks.md, "SQLite import: several batches per transaction"). The price: other writes to the same
    /// store wait for up to one such transaction (seconds in a large import) rather than one batch.
    /// </summary>
    [Range(1, 10_000_000)]
    public int ImportTransactionItems { get; set; } = 262_144;

    /// <summary>
    /// After an import of at least this many items, the server compacts its heap and hands the freed memory back to the
    /// system before it answers (0: never). Why: a large import churns batches and per-batch totals, and the garbage
    /// collector keeps that memory committed for the next burst; for a one-off bulk load that is memory a long-running
    /// server holds for nothing. The full collection pauses the process for tens of milliseconds, which is why small
    /// imports (a CRM's steady trickle) do not trigger it.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int ImportCompactAfterItems { get; set; } = 100_000;

    /// <summary>How many of a buyer's latest interaction notes classification reads.</summary>
    [Range(0, 100)]
    public int RecentNotes { get; set; } = 5;

    /// <summary>How often the background worker looks for buyers to reclassify when nobody signals it, in milliseconds.</summary>
    [Range(10, 600_000)]
    public int ReclassifyIntervalMs { get; set; } = 1000;

    /// <summary>Buyers the background worker reclassifies per round.</summary>
    [Range(1, 10_000)]
    public int ReclassifyBatch { get; set; } = 200;

    /// <summary>How long an import must be quiet before the worker reclassifies, so it never slows a running import, in milliseconds.</summary>
    [Range(0, 60_000)]
    public int ReclassifyQuietMs { get; set; } = 300;

    /// <summary>
    /// The longest the worker defers to imports before it reclassifies one round anyway, in milliseconds: a steady import
    /// feed is never quiet, and its buyers' classifications must not wait for it to stop.
    /// </summary>
    [Range(0, 3_600_000)]
    public int ReclassifyMaxWaitMs { get; set; } = 10_000;

    /// <summary>How often the name index reads the store's change feed (changes made by other servers), in milliseconds.</summary>
    [Range(10, 600_000)]
    public int NameIndexPollMs { get; set; } = 1000;
}

/// <summary>Demo data (configuration section <c>Demo</c>).</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>Load the demo registry at start (skipped for buyers that already exist).</summary>
    public bool Seed { get; set; }

    /// <summary>The demo registry file (JSON lines); relative paths are resolved against the app's directory.</summary>
    [Required]
    public string File { get; set; } = System.IO.Path.Combine("Data", "demo-registry.jsonl");
}
