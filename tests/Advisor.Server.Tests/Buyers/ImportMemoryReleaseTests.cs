using System.Runtime;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;

namespace Advisor.Server.Tests.Buyers;

/// <summary>
/// A large import ends with the heap compacted and its free memory handed back (<c>Buyers:ImportCompactAfterItems</c>),
/// before the response: checked through the runtime's record of its last full blocking collection, with the threshold
/// lowered so a small import counts as large.
/// </summary>
public sealed class ImportMemoryReleaseTests(ImportMemoryReleaseTests.SmallThresholdServer server) : IClassFixture<ImportMemoryReleaseTests.SmallThresholdServer>
{
    private const int Threshold = 50;

    private BuyerService.BuyerServiceClient Buyers => new(server.Channel);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_import_of_at_least_the_threshold_compacts_the_heap_before_it_answers()
    {
        var before = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;

        using var call = Buyers.ImportInteractions(ServerFixture.Deadline(60));
        var message = new ImportInteractionsRequest();
        var external = "release-" + Guid.NewGuid().ToString("N")[..10];
        message.Interactions.AddRange(Enumerable.Range(0, Threshold).Select(i => new Interaction
        {
            Type = InteractionType.RepeatPurchase,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-i - 1)),
            BuyerExternalId = external,
            BuyerDisplayName = "Release " + external,
            IdempotencyKey = "release-" + i,
        }));
        await call.RequestStream.WriteAsync(message, Ct);
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;

        response.Accepted.ShouldBe(Threshold);
        var last = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        last.Index.ShouldBeGreaterThan(before, "a full blocking collection ran during the import");
        last.Compacted.ShouldBeTrue();
        last.Generation.ShouldBe(GC.MaxGeneration);
    }

    /// <summary>The real server with the compaction threshold at <see cref="Threshold"/> items.</summary>
    public sealed class SmallThresholdServer : ServerFixture
    {
        protected override IEnumerable<string> ExtraArguments => ["--Buyers:ImportCompactAfterItems", Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)];
    }
}
