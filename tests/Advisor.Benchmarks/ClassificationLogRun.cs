using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Advisor.Server.Storage.Sqlite;
using Advisor.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Advisor.Benchmarks;

/// <summary>
/// What the classification log costs per row, outside the server: the SQLite writer (<see cref="SqliteClassificationLogWriter"/>)
/// given batches of 512 rows (or as many as the third argument says) through the batched log (<see cref="BatchedClassificationLog"/>: appended, then flushed), into a fresh file that grows round after round, and the
/// profile's log text (<see cref="ProfileLogText"/>). Process CPU per row and bytes per text. Why a run of its own: every
/// ClassifyBuyer pays for a row that Health/Check does not, and under the load tool the server's CPU per call moves with
/// the machine by more than a row costs (docs/benchmarks.md, "ClassifyBuyer: what the classification log costs per call").
/// </summary>
public static class ClassificationLogRun
{
    /// <param name="args">Rounds (6), batches per round (150) and rows per batch (the server's batch size).</param>
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 6;
        var batches = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 150;
        var batchSize = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : BatchedClassificationLog.BatchSize;
        var profile = new BuyerProfile
        {
            PurchasesPerYear = 12,
            RelationshipMonths = 36,
            Agreement = AgreementStatus.Active,
            Retainer = true,
            Offering = Offering.ProfessionalService,
            PersonalisedWork = true,
            Industry = "legal",
            Market = Market.B2B,
        };
        var input = ProfileLogText.Format(profile);

        // Twice, the first to let the JIT optimise the path: the second is reported.
        const int texts = 200_000;
        long bytes = 0;
        var cpu = TimeSpan.Zero;
        var textCpu = TimeSpan.Zero;
        for (var pass = 0; pass < 2; pass++)
        {
            bytes = GC.GetAllocatedBytesForCurrentThread();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = 0; i < texts; i++)
            {
                _ = ProfileLogText.Format(profile);
            }

            textCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile log text ({input.Length} characters): {(GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)texts:F0} B, {textCpu.TotalNanoseconds / texts:F0} ns CPU per text"));

        var folder = Directory.CreateTempSubdirectory("advisor-log-run-");
        try
        {
            using var database = new SqliteDatabase(Options.Create(new StorageOptions { Path = Path.Combine(folder.FullName, "advisor.db") }));
            await new SqliteMigrator(database, NullLogger<SqliteMigrator>.Instance).MigrateAsync(CancellationToken.None);
            // Through the batched log as the server uses it: each batch appended (queued as bytes) and flushed, so the
            // queue's take and whatever the writer does with the queued entries are measured with the writer.
            var writer = new SqliteClassificationLogWriter(database);
            using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            using var log = new BatchedClassificationLog(writer, NullLogger<BatchedClassificationLog>.Instance, TimeProvider.System, services.GetRequiredService<IMeterFactory>());
            var ids = new SharedIdSource("c");
            Console.WriteLine($"classification log on SQLite: {rounds} rounds of {batches} batches of {batchSize} rows, appended and flushed, {Environment.ProcessorCount} cores");
            for (var round = 0; round < rounds; round++)
            {
                // The rows are made before the clock starts: only the log is measured.
                var work = new List<List<ClassificationLogEntry>>(batches);
                for (var b = 0; b < batches; b++)
                {
                    var batch = new List<ClassificationLogEntry>(batchSize);
                    for (var i = 0; i < batchSize; i++)
                    {
                        var now = DateTimeOffset.UtcNow;
                        batch.Add(new ClassificationLogEntry(ids.Next(now), now, "profile", input, null, Kind.Client, 0.83, 4.5, "2026.11.1"));
                    }

                    work.Add(batch);
                }

                cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                foreach (var batch in work)
                {
                    foreach (var entry in batch)
                    {
                        log.Append(entry);
                    }

                    await log.FlushAsync(CancellationToken.None);
                }

                var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                var rows = batches * (double)batchSize;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: {used.TotalMicroseconds / rows:F2} µs CPU per row, {clock.Elapsed.TotalMicroseconds / rows:F2} µs per row elapsed, file {new FileInfo(database.FilePath).Length / 1e6:F0} MB"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }

        return 0;
    }
}
