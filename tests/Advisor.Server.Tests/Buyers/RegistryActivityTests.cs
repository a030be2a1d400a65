using Advisor.Server.Buyers;

namespace Advisor.Server.Tests.Buyers;

/// <summary>
/// What the reclassification worker reads to stay out of a running import: an import batch counts as activity from the
/// moment it starts writing, not only once it has committed (a large batch outlasts the worker's quiet time).
/// </summary>
public sealed class RegistryActivityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_import_batch_counts_as_writing_until_every_started_batch_has_ended()
    {
        using var activity = new RegistryActivity(TimeProvider.System);
        var before = DateTimeOffset.UtcNow;
        activity.ImportWriting.ShouldBeFalse();

        activity.ImportBatchStarted();
        activity.ImportBatchStarted();
        activity.ImportWriting.ShouldBeTrue();

        activity.ImportBatchEnded();
        activity.ImportWriting.ShouldBeTrue("a second import's batch is still writing");
        activity.LastImport.ShouldBeGreaterThanOrEqualTo(before);

        activity.ImportBatchEnded();
        activity.ImportWriting.ShouldBeFalse();
        (await activity.WaitAsync(TimeSpan.FromMinutes(1), Ct)).ShouldBeTrue("an ended batch wakes the worker to look again");
    }
}
