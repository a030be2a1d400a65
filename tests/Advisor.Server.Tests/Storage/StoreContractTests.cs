using Advisor.Server.Classification;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// The behaviour every store must have, written once and run against each provider
/// (see the sealed subclasses at the end): same cases, same assertions.
/// </summary>
public abstract class StoreContractTests<TProvider>(TProvider provider)
    where TProvider : StoreProvider
{
    protected TProvider Provider { get; } = provider;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrations_are_applied_once_even_when_servers_start_together()
    {
        var second = await Provider.SecondServerAsync(Ct);
        var third = await Provider.SecondServerAsync(Ct);
        await using (second)
        await using (third)
        {
            var applied = await Task.WhenAll(
                second.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct),
                third.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct));
            applied.ShouldAllBe(n => n == 0);
        }
    }

    [Fact]
    public async Task Feedback_is_idempotent_by_request_id_and_pages_newest_first()
    {
        var store = Provider.Get<IFeedbackStore>();
        var requestId = Guid.NewGuid().ToString();
        var first = await store.AddAsync(Feedback(requestId, Kind.Client, DateTimeOffset.UtcNow.AddMinutes(-2)), Ct);
        var retry = await store.AddAsync(Feedback(requestId, Kind.Customer, DateTimeOffset.UtcNow), Ct);
        retry.Id.ShouldBe(first.Id);
        retry.ExpectedKind.ShouldBe(Kind.Client);

        var mine = new HashSet<string> { first.Id };
        for (var i = 0; i < 5; i++)
        {
            mine.Add((await store.AddAsync(Feedback(null, Kind.Hybrid, DateTimeOffset.UtcNow.AddSeconds(i)), Ct)).Id);
        }

        var seen = new List<FeedbackRecord>();
        string? token = null;
        do
        {
            var page = await store.ListAsync(2, token, Ct);
            page.Items.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Items);
            token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
        }
        while (token is not null);

        seen.Select(f => f.Id).ShouldBeUnique();
        seen.Select(f => f.CreateTime).ShouldBeInOrder(SortDirection.Descending);
        var ours = seen.Where(f => mine.Contains(f.Id)).ToList();
        ours.Count.ShouldBe(6, "every record appears once across the pages");
        ours[^1].Id.ShouldBe(first.Id);
    }

    [Fact]
    public async Task Concurrent_feedback_retries_store_one_record()
    {
        var store = Provider.Get<IFeedbackStore>();
        var requestId = Guid.NewGuid().ToString();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.AddAsync(Feedback(requestId, Kind.Client, DateTimeOffset.UtcNow), Ct)));
        results.Select(r => r.Id).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task Rule_sets_publish_with_an_etag_and_exactly_one_concurrent_publisher_wins()
    {
        var store = Provider.Get<IRuleSetStore>();
        var live = await store.GetLiveAsync(Ct);
        var etag = live?.Etag;
        var versions = new[] { "contract-a-" + Guid.NewGuid().ToString("N")[..6], "contract-b-" + Guid.NewGuid().ToString("N")[..6] };
        foreach (var version in versions)
        {
            (await store.AddDraftAsync(Draft(version), Ct)).ShouldBeTrue();
            (await store.AddDraftAsync(Draft(version), Ct)).ShouldBeFalse();
        }

        var outcomes = await Task.WhenAll(versions.Select(v => store.SetLiveAsync(v, etag, Audit(v), Ct)));
        outcomes.Count(o => o is not null).ShouldBe(1);
        var winner = outcomes.Single(o => o is not null)!;
        var now = await store.GetLiveAsync(Ct);
        now!.Etag.ShouldBe(winner.Etag);
        now.RuleSet.State.ShouldBe(RuleSetState.Live);

        (await store.SetLiveAsync(versions[0], etag, Audit("stale"), Ct)).ShouldBeNull("a stale etag never wins");
        var audit = await Provider.Get<IAuditLog>().ListAsync(10, null, Ct);
        audit.Items.ShouldContain(a => a.Target == winner.RuleSet.Version && a.Action == "rules.publish");
    }

    [Fact]
    public async Task Classification_log_entries_are_written_in_batches_and_read_back()
    {
        var log = Provider.Get<IClassificationLog>();
        var id = "c_" + Guid.NewGuid().ToString("N");
        log.Append(new ClassificationLogEntry(id, DateTimeOffset.UtcNow, "description", "buys coffee", null, Kind.Customer, 0.8, -3, "v1"));
        await log.FlushAsync(Ct);
        var recent = await log.RecentAsync(100, Ct);
        var entry = recent.Single(e => e.Id == id);
        entry.Kind.ShouldBe(Kind.Customer);
        entry.Input.ShouldBe("buys coffee");
    }

    [Fact]
    public async Task A_log_batch_larger_than_one_write_keeps_every_field_of_every_entry()
    {
        // More entries than one batch write takes (512), every field distinct per entry, so a value bound to the wrong
        // column or an entry lost between two batches shows.
        var log = Provider.Get<IClassificationLog>();
        var run = Guid.NewGuid().ToString("N")[..8];
        // In the past, so that the other log test still finds its own entry among the most recent ones.
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var written = Enumerable.Range(0, 600).Select(n => new ClassificationLogEntry(
            $"c_{run}{n:D24}", start.AddMilliseconds(n), n % 2 == 0 ? "profile" : "buyer", $"input {run} {n} é✓", n % 2 == 0 ? null : $"b_{run}_{n}",
            (Kind)(n % 4), Math.Round(n / 1000.0, 3), -n - 0.25, $"v{n % 7}")).ToList();
        foreach (var entry in written)
        {
            log.Append(entry);
        }

        await log.FlushAsync(Ct);
        var read = (await log.RecentAsync(100_000, Ct)).Where(e => e.Id.StartsWith($"c_{run}", StringComparison.Ordinal)).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
        read.Count.ShouldBe(written.Count);
        for (var n = 0; n < written.Count; n++)
        {
            read[n].ShouldBe(written[n] with { Time = read[n].Time });
            read[n].Time.ShouldBe(written[n].Time, TimeSpan.FromTicks(1));
        }
    }

    [Fact]
    public async Task A_log_entry_with_empty_texts_keeps_them_empty_and_a_missing_buyer_null()
    {
        // The SQLite writer binds the queued UTF-8 bytes: an empty text has no bytes and must still be '' (the input and
        // rule set version columns are NOT NULL), and non-ASCII text must come back exactly.
        var log = Provider.Get<IClassificationLog>();
        var empty = "c_" + Guid.NewGuid().ToString("N");
        var unicode = "c_" + Guid.NewGuid().ToString("N");
        log.Append(new ClassificationLogEntry(empty, DateTimeOffset.UtcNow, "profile", "", "", Kind.Undetermined, 0, 0, ""));
        log.Append(new ClassificationLogEntry(unicode, DateTimeOffset.UtcNow, "question", "naïve 🚀 客户", null, Kind.Hybrid, 0.5, -1.5, "v✓"));
        await log.FlushAsync(Ct);
        var recent = await log.RecentAsync(100, Ct);
        var read = recent.Single(e => e.Id == empty);
        (read.Input, read.BuyerId, read.RuleSetVersion, read.Kind).ShouldBe(("", "", "", Kind.Undetermined));
        var other = recent.Single(e => e.Id == unicode);
        (other.Input, other.BuyerId, other.RuleSetVersion, other.Kind, other.Score).ShouldBe(("naïve 🚀 客户", (string?)null, "v✓", Kind.Hybrid, -1.5));
    }

    [Fact]
    public async Task A_log_entry_whose_id_is_already_there_is_skipped_within_a_batch_and_across_batches()
    {
        // 70 entries: more than two of the SQLite writer's multi-row statements (32 rows each), so duplicates land in the
        // same statement, in another statement of the same batch, and in a later batch.
        var log = Provider.Get<IClassificationLog>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow.AddDays(-2);
        ClassificationLogEntry Entry(int n, string input) =>
            new($"c_{run}{n:D24}", start.AddMilliseconds(n), "description", input, null, Kind.Client, 0.5, 1, "v1");
        for (var n = 0; n < 70; n++)
        {
            log.Append(Entry(n, $"first {n}"));
        }

        log.Append(Entry(3, "again in the same batch"));
        log.Append(Entry(40, "again in the same batch"));
        await log.FlushAsync(Ct);
        log.Append(Entry(5, "again in a later batch"));
        log.Append(Entry(70, "new in a later batch"));
        await log.FlushAsync(Ct);

        var read = (await log.RecentAsync(100_000, Ct)).Where(e => e.Id.StartsWith($"c_{run}", StringComparison.Ordinal)).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
        read.Select(e => e.Input).ShouldBe(Enumerable.Range(0, 70).Select(n => $"first {n}").Append("new in a later batch"));
    }

    [Fact]
    public async Task A_garbled_page_token_is_a_format_error()
    {
        await Should.ThrowAsync<FormatException>(() => Provider.Get<IAuditLog>().ListAsync(10, "not-a-token", Ct));
    }

    private static FeedbackRecord Feedback(string? requestId, Kind kind, DateTimeOffset time) =>
        new("f_" + Guid.NewGuid().ToString("N"), requestId, null, null, kind, Kind.Customer, "comment", "tests", "U1", time);

    private static StoredRuleSet Draft(string version) =>
        new(version, RuleSetState.Draft, "version: " + version, "hash-" + version, "tests", null, 1, null, null, DateTimeOffset.UtcNow, null);

    private static AuditRecord Audit(string target) =>
        new("a_" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, "tests", "rules.publish", target, null, null);
}

public sealed class SqliteStoreContractTests(SqliteProvider provider)
    : StoreContractTests<SqliteProvider>(provider), IClassFixture<SqliteProvider>;

public sealed class PostgresStoreContractTests(PostgresProvider provider)
    : StoreContractTests<PostgresProvider>(provider), IClassFixture<PostgresProvider>;
