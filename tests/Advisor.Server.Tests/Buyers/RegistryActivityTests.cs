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

    [Fact]
    public void The_worker_waits_while_a_batch_writes_and_until_imports_are_quiet_but_never_past_its_longest_wait()
    {
        var clock = new ManualClock();
        using var activity = new RegistryActivity(clock);
        var quiet = TimeSpan.FromMilliseconds(300);
        var maxWait = TimeSpan.FromSeconds(10);

        // No import at all: go now.
        activity.ReclassificationDelay(quiet, maxWait, clock.GetUtcNow()).ShouldBe(TimeSpan.Zero);

        // A batch ended 100 ms ago: wait out the rest of the quiet time.
        activity.ImportBatchStarted();
        activity.ImportBatchEnded();
        clock.Advance(TimeSpan.FromMilliseconds(100));
        var since = clock.GetUtcNow();
        activity.ReclassificationDelay(quiet, maxWait, since).ShouldBe(TimeSpan.FromMilliseconds(200));

        // A steady feed: a batch is always writing. The worker waits a quiet time at a time...
        activity.ImportBatchStarted();
        clock.Advance(TimeSpan.FromSeconds(9.9));
        activity.ReclassificationDelay(quiet, maxWait, since).ShouldBe(TimeSpan.FromMilliseconds(100), "never past the longest wait");

        // ...until it has waited the longest it may: then it goes, though the import is still writing.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        activity.ImportWriting.ShouldBeTrue();
        activity.ReclassificationDelay(quiet, maxWait, since).ShouldBe(TimeSpan.Zero);

        // After its round it waits for the import again, counted afresh.
        activity.ReclassificationDelay(quiet, maxWait, clock.GetUtcNow()).ShouldBe(quiet);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
