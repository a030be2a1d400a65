using System.Diagnostics.Metrics;
using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Advisor.Server.Telemetry;
using Advisor.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// The classification log's queue when its writer falls behind: the oldest entries go, and the loss is counted in
/// the metric and said in a warning, never silent. The writer is the server's own, on its real SQLite file.
/// </summary>
public sealed class ClassificationLogQueueTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_full_queue_drops_the_oldest_entries_and_counts_and_reports_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturedLogs();
        // Not started: nothing drains the queue until the flush below, as when the writer cannot keep up.
        var log = new BatchedClassificationLog(
            server.Services.GetRequiredService<IClassificationLogWriter>(), logs.For<BatchedClassificationLog>(), TimeProvider.System, server.Services.GetRequiredService<IMeterFactory>());
        long? observed = null;

        // Only this server's meter: other test classes' servers in the same process publish the same instrument, and
        // their 0 arriving last made this test fail when it ran beside them. This server's own log reports 0 as well,
        // hence the largest value seen.
        var meter = server.Services.GetRequiredService<IMeterFactory>().Create(AdvisorMetrics.MeterName);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "advisor.classification_log.dropped")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => observed = Math.Max(observed ?? 0, value));
        listener.Start();

        var prefix = "cq-" + Guid.NewGuid().ToString("N")[..8] + "-";
        const int Extra = 7;
        for (var n = 0; n < BatchedClassificationLog.QueueCapacity + Extra; n++)
        {
            log.Append(new ClassificationLogEntry($"{prefix}{n:D6}", DateTimeOffset.UtcNow, "description", "a retainer", null, Kind.Client, 0.8, 2.5, "test"));
        }

        log.Dropped.ShouldBe(Extra);
        listener.RecordObservableInstruments();
        observed.ShouldBe(Extra);

        await log.FlushAsync(ct);
        logs.Lines.ShouldContain(l => l.Level == LogLevel.Warning && l.Message.Contains($"Dropped {Extra} classification log entries", StringComparison.Ordinal));
        var written = (await log.RecentAsync(BatchedClassificationLog.QueueCapacity, ct)).Select(e => e.Id).Where(id => id.StartsWith(prefix, StringComparison.Ordinal)).ToHashSet();
        written.Count.ShouldBe(BatchedClassificationLog.QueueCapacity);
        written.ShouldNotContain($"{prefix}{Extra - 1:D6}");
        written.ShouldContain($"{prefix}{Extra:D6}");
    }
}
