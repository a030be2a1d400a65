using System.Diagnostics;
using System.Globalization;
using Advisor.Server.Storage;
using Advisor.Server.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Advisor.Benchmarks;

/// <summary>
/// A measured run (not BenchmarkDotNet: each run writes hundreds of thousands of rows, so repeating it hundreds of
/// times would measure a growing database) of the PostgreSQL buyer store's import path: batches of interactions
/// for buyers named by external id, each batch one committed transaction, as the ImportInteractions RPC commits them.
/// </summary>
/// <remarks>
/// dotnet run -c Release --project tests/Advisor.Benchmarks -- postgres-import "Host=...;Database=..." [interactions] [batch] [buyers] [per-buyer run]
/// </remarks>
public static class PostgresImportRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            await Console.Error.WriteLineAsync("usage: postgres-import CONNECTION_STRING [interactions=1000000] [batch=4096] [buyers=100000] [per-buyer=10]");
            return 2;
        }

        var total = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
        var batchSize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4096;
        var buyers = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 100_000;
        var perBuyer = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 10;
        await using var database = new PostgresDatabase(Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = args[1] }));
        await new PostgresMigrator(database, NullLogger<PostgresMigrator>.Instance).MigrateAsync(CancellationToken.None);
        var store = new PostgresBuyerStore(database);
        var run = Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow.AddYears(-1);

        // Warm-up: one batch that also creates the first buyers, not measured.
        var position = 0L;
        await store.ImportBatchAsync(Batch(run, start, ref position, batchSize, buyers, perBuyer), CancellationToken.None);

        long accepted = 0;
        long created = 0;
        var commits = new List<double>();
        var clock = Stopwatch.StartNew();
        while (position < total)
        {
            var items = Batch(run, start, ref position, (int)Math.Min(batchSize, total - position), buyers, perBuyer);
            var commit = Stopwatch.StartNew();
            var result = await store.ImportBatchAsync(items, CancellationToken.None);
            commits.Add(commit.Elapsed.TotalMilliseconds);
            accepted += result.Items.Count(i => i.Status == ImportItemStatus.Accepted);
            created += result.BuyersCreated;
        }

        clock.Stop();
        commits.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PostgreSQL import: {accepted:N0} interactions ({created:N0} new buyers) in {clock.Elapsed.TotalSeconds:F1} s = {accepted / clock.Elapsed.TotalSeconds:N0} interactions/s; " +
            $"batch {batchSize}, commit p50 {commits[commits.Count / 2]:F1} ms, p99 {commits[(int)(commits.Count * 0.99)]:F1} ms"));
        return 0;
    }

    /// <summary>
    /// The next batch: interactions for <paramref name="buyers"/> buyers named by external id, <paramref name="perBuyer"/>
    /// in a row for each (as an export sorted by customer comes), each with its own idempotency key.
    /// </summary>
    private static List<ImportItem> Batch(string run, DateTimeOffset start, ref long position, int size, int buyers, int perBuyer)
    {
        var items = new List<ImportItem>(size);
        for (var n = 0; n < size; n++, position++)
        {
            var buyer = position / perBuyer % buyers;
            var at = start.AddMinutes(position);
            items.Add(new ImportItem(
                position,
                null,
                $"bench-{run}-{buyer}",
                $"Bench Buyer {run} {buyer}",
                new InteractionRecord(Ids.New("i"), "", (InteractionKind)(1 + (position % 12)), at, position % 3 == 0 ? null : 10 + (position % 90), "EUR", "shop", null, $"{run}-{position}", DateTimeOffset.UtcNow)));
        }

        return items;
    }
}
