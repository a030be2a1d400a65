using System.Text.Json;
using Advisor.Server.Buyers;
using Advisor.Server.Classification;
using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Advisor.Server.Tests.Buyers;

/// <summary>
/// Right after an import the SQLite store has not folded the imported rows into the buyers' totals (migration 006):
/// a profile read adds them itself. The answer must not depend on whether the fold has run. These tests classify the
/// same buyers on a real SQLite file before and after the fold and compare everything the answer carries: the totals
/// with their first and last interactions, and the kind, scores and evidence with its interaction ids. Times repeat on
/// purpose (few distinct days, folded and pending rows on the same instants), because the tie rules (first stored among
/// equal times is the first, last stored the last) are where a read that adds pending rows can differ from the fold.
/// </summary>
public sealed class PendingProfileTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset Now = T0.AddDays(200);

    private readonly ScratchDatabase _database = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_buyer_read_before_the_fold_is_classified_exactly_as_after_it(int seed)
    {
        // Not started: the reclassification worker would fold at a time of its choosing.
        await using var app = AdvisorServerHost.Build(["--Storage:Provider", "sqlite", "--Storage:Path", _database.Path, "--Logging:LogLevel:Default", "Warning"]);
        await app.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct);
        var store = app.Services.GetRequiredService<IBuyerStore>();
        var snapshot = app.Services.GetRequiredService<SnapshotHolder>().Current;
        var random = new Random(seed);

        // Three histories: folded rows with pending ones on top, pending rows only, and a short one with a pending tail.
        var mixed = await NewBuyerAsync(store, "Mixed");
        var fresh = await NewBuyerAsync(store, "Fresh");
        var brief = await NewBuyerAsync(store, "Short");
        foreach (var (buyer, count) in new[] { (mixed, 40), (brief, 2) })
        {
            for (var i = 0; i < count; i++)
            {
                // Recorded while nothing is pending: folded in the same transaction.
                await store.RecordInteractionAsync(Interaction(buyer, random), null, Ct);
            }
        }

        var items = new List<ImportItem>();
        foreach (var (buyer, count) in new[] { (mixed, 600), (fresh, 500), (brief, 3) })
        {
            items.AddRange(Enumerable.Range(0, count).Select(_ => new ImportItem(0, buyer, null, null, Interaction("", random))));
        }

        // Buyers interleaved, as a stream from another system sends them.
        items = [.. items.OrderBy(_ => random.Next()).Select((item, index) => item with { Index = index })];
        var imported = await store.ImportBatchAsync(items, Ct);
        imported.Items.ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        // Recorded while rows are pending: deferred to the fold as well.
        await store.RecordInteractionAsync(Interaction(mixed, random), null, Ct);
        PendingRows().ShouldBe(items.Count + 1, "the state under test: every imported row is still pending");

        var before = new Dictionary<string, (BuyerProfileData Profile, string Answer)>();
        foreach (var buyer in new[] { mixed, fresh, brief })
        {
            before[buyer] = await ReadAsync(store, snapshot, buyer);
        }

        // The worker's way to fold: listing the buyers to reclassify folds while too few are marked.
        await store.ListBuyersToReclassifyAsync(100_000, Ct);
        PendingRows().ShouldBe(0, "the fold ran");

        foreach (var buyer in new[] { mixed, fresh, brief })
        {
            var (profile, answer) = await ReadAsync(store, snapshot, buyer);
            var (pendingProfile, pendingAnswer) = before[buyer];
            pendingProfile.Stats.ShouldBe(profile.Stats, $"totals of {buyer}");
            // LastSequence is not compared: it is bookkeeping for the save (which rows a classification covers), not part
            // of the answer, and its pending form is the newest sequence while the folded one is the newest type's last.
            pendingAnswer.ShouldBe(answer, $"answer for {buyer}");
        }
    }

    /// <summary>The profile and, as text, everything the classification answers: kind, scores, evidence and its interactions, strategies.</summary>
    private static async Task<(BuyerProfileData Profile, string Answer)> ReadAsync(IBuyerStore store, AdvisorSnapshot snapshot, string buyer)
    {
        var profile = (await store.GetProfileAsync(buyer, 5, Ct))!;
        var classified = RegistryClassifier.Classify(profile, snapshot, null, Knowledge.StrategyStage.Any, Now);
        classified.Result.Evidence.ShouldContain(e => e.InteractionIds.Count > 0, "the evidence names interactions");
        var answer = JsonSerializer.Serialize(new
        {
            classified.Result.Kind,
            classified.Result.Confidence,
            classified.Result.Score,
            classified.Result.ClientWeight,
            classified.Result.CustomerWeight,
            classified.Result.Summary,
            classified.Result.Stage,
            Evidence = classified.Result.Evidence.Select(e => new { e.Signal, e.RuleId, e.Weight, e.Source, e.Explanation, Ids = string.Join(",", e.InteractionIds) }),
            classified.Result.OpenQuestions,
            Strategies = classified.Strategies.Select(s => s.Id),
        });
        return (profile, answer);
    }

    private static async Task<string> NewBuyerAsync(IBuyerStore store, string name) =>
        (await store.CreateBuyerAsync(Ids.New("b"), new BuyerValues(name + " " + Guid.NewGuid().ToString("N")[..6], "consulting", MarketKind.Business, null, [], null), null, T0, Ct)).Buyer!.Id;

    /// <summary>One interaction on one of 20 days at one of two hours, so that times repeat within a type and across folded and pending rows.</summary>
    private static InteractionRecord Interaction(string buyer, Random random)
    {
        var types = Enum.GetValues<InteractionKind>().Where(k => k != default).ToArray();
        var amount = random.Next(3) == 0 ? random.Next(1, 500) : (double?)null;
        return new InteractionRecord(Ids.New("i"), buyer, types[random.Next(types.Length)], T0.AddDays(random.Next(20) * 7).AddHours(random.Next(2)),
            amount, amount is null ? null : "EUR", "email", random.Next(9) == 0 ? "they asked for advice on next year's budget" : null, null, T0);
    }

    /// <summary>Rows above the fold position, read from the file as another process would.</summary>
    private long PendingRows()
    {
        using var connection = new SqliteConnection($"Data Source={_database.Path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand("SELECT (SELECT COALESCE(MAX(seq), 0) FROM interactions) - folded_seq FROM private_fold", connection);
        return (long)command.ExecuteScalar()!;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }
}
