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
/// dotnet run -c Release --project tests/Advisor.Benchmarks -- postgres-import "Host=...;Database=..." [interactions] [batch] [buyers] [per-buyer run] [writers]
/// <para>
/// The batches are generated before the clock starts, so the figure is the store's, not the generator's. Besides
/// wall-clock throughput the run reports CPU time per interaction, which a busy machine distorts far less: this
/// process's, and (when PostgreSQL runs on this machine) that of the PostgreSQL backends serving the run, read
/// from /proc. With several writers, each commits its own batches concurrently, as concurrent ImportInteractions
/// streams do.
/// </para>
/// </remarks>
public static class PostgresImportRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            await Console.Error.WriteLineAsync("usage: postgres-import CONNECTION_STRING [interactions=1000000] [batch=4096] [buyers=100000] [per-buyer=10] [writers=1]");
            return 2;
        }

        var total = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
        var batchSize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4096;
        var buyers = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 100_000;
        var perBuyer = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 10;
        var writers = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 1;
        await using var database = new PostgresDatabase(Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = args[1] }));
        await new PostgresMigrator(database, NullLogger<PostgresMigrator>.Instance).MigrateAsync(CancellationToken.None);
        var store = new PostgresBuyerStore(database);
        var run = Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow.AddYears(-1);

        // Warm-up, not measured: 8 rounds of one batch per writer (each on its own connection), which also create the
        // first buyers and let the JIT settle (a short run otherwise measures tiered recompilation as much as the store).
        var position = 0L;
        for (var round = 0; round < WarmupRounds; round++)
        {
            var warmups = new List<List<ImportItem>>();
            for (var w = 0; w < writers; w++)
            {
                warmups.Add(Batch(run, start, ref position, batchSize, buyers, perBuyer));
            }

            await Task.WhenAll(warmups.Select(b => store.ImportBatchAsync(b, CancellationToken.None)));
        }

        var batches = new Queue<List<ImportItem>>();
        while (position < total)
        {
            batches.Enqueue(Batch(run, start, ref position, (int)Math.Min(batchSize, total - position), buyers, perBuyer));
        }

        var backends = await BackendPidsAsync(database);
        var backendCpuBefore = backends.Sum(ProcessCpuTicks);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long accepted = 0;
        long created = 0;
        var commits = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                List<ImportItem> items;
                lock (batches)
                {
                    if (!batches.TryDequeue(out items!))
                    {
                        return;
                    }
                }

                var commit = Stopwatch.StartNew();
                var result = await store.ImportBatchAsync(items, CancellationToken.None);
                var elapsed = commit.Elapsed.TotalMilliseconds;
                lock (commits)
                {
                    commits.Add(elapsed);
                    accepted += result.Items.Count(i => i.Status == ImportItemStatus.Accepted);
                    created += result.BuyersCreated;
                }
            }
        })));

        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var backendCpu = backends.Sum(ProcessCpuTicks) - backendCpuBefore;
        commits.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PostgreSQL import: {accepted:N0} interactions ({created:N0} new buyers) in {clock.Elapsed.TotalSeconds:F1} s = {accepted / clock.Elapsed.TotalSeconds:N0} interactions/s; " +
            $"batch {batchSize}, {writers} writer(s), commit p50 {commits[commits.Count / 2]:F1} ms, p99 {commits[(int)(commits.Count * 0.99)]:F1} ms"));
        var backendText = backends.Count == 0
            ? "not measured (server not on this machine)"
            : string.Create(CultureInfo.InvariantCulture, $"{backendCpu * 1_000_000.0 / TicksPerSecond / accepted:F1} µs ({backends.Count} backends)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU per interaction: this process {cpu.TotalMicroseconds / accepted:F1} µs, PostgreSQL backends {backendText}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        return 0;
    }

    private const int WarmupRounds = 8;

    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>
    /// The pids of the backends of this run's pooled connections (the pool keeps them open, so their CPU time can be
    /// read before and after); empty when the server's processes are not visible here.
    /// </summary>
    private static async Task<List<int>> BackendPidsAsync(PostgresDatabase database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = new Npgsql.NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = '' AND backend_type = 'client backend'", connection);
        var pids = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids.Where(p => File.Exists($"/proc/{p}/stat")).ToList();
    }

    /// <summary>User plus system CPU ticks of a process, 0 when it is gone or not visible.</summary>
    private static long ProcessCpuTicks(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
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
