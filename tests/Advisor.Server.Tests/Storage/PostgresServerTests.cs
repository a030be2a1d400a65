using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Storage;

/// <summary>The full server on PostgreSQL, and two servers sharing one database behind an imagined load balancer.</summary>
public sealed class PostgresServerTests(PostgresInstance postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_servers_share_writes_and_a_publish_on_one_is_live_on_the_other()
    {
        var connectionString = await postgres.CreateDatabaseAsync(Ct);
        string[] settings = ["--urls", "http://127.0.0.1:0", "--Storage:Provider", "postgres", "--Storage:ConnectionString", connectionString,
            "--Rules:PollInterval", "00:00:00.200", "--Security:RateLimit:Enabled", "false", "--Logging:LogLevel:Default", "Warning"];
        await using var first = AdvisorServerHost.Build(settings);
        await using var second = AdvisorServerHost.Build(settings);
        await Task.WhenAll(first.StartAsync(Ct), second.StartAsync(Ct));
        using var firstChannel = GrpcChannel.ForAddress(first.GetListeningAddress());
        using var secondChannel = GrpcChannel.ForAddress(second.GetListeningAddress());
        var clients = new[] { new AdvisorService.AdvisorServiceClient(firstChannel), new AdvisorService.AdvisorServiceClient(secondChannel) };

        // Mixed traffic to both: classifications, and feedback writes where every other one is a retry on the other server.
        var requestIds = Enumerable.Range(0, 40).Select(i => $"two-servers-{i / 2}").ToList();
        var writes = requestIds.Select((id, i) => clients[i % 2].SubmitFeedbackAsync(
            new SubmitFeedbackRequest { RequestId = id, ExpectedKind = BuyerKind.Client, Channel = "tests" }, ServerFixture.Deadline()).ResponseAsync);
        var reads = Enumerable.Range(0, 40).Select(i => clients[i % 2].ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Description = "They pay a monthly retainer and we meet every week." }, ServerFixture.Deadline()).ResponseAsync);
        var buyerTraffic = BuyerTrafficAsync(new BuyerService.BuyerServiceClient(firstChannel), new BuyerService.BuyerServiceClient(secondChannel), clients);
        var stored = await Task.WhenAll(writes);
        await buyerTraffic;
        (await Task.WhenAll(reads)).ShouldAllBe(r => r.Classification.Kind == BuyerKind.Client);
        stored.GroupBy(f => f.Id).Count().ShouldBe(20, "each request id is stored once, whichever server got it");
        var listed = await clients[1].ListFeedbackAsync(new ListFeedbackRequest { PageSize = 1000 }, ServerFixture.Deadline());
        listed.Feedback.Count.ShouldBe(20);

        // Publish a new version through the first server's store; the second must answer with it.
        var store = first.Services.GetRequiredService<IRuleSetStore>();
        var live = (await store.GetLiveAsync(Ct))!;
        var version = "shared-" + Guid.NewGuid().ToString("N")[..8];
        var yaml = System.Text.RegularExpressions.Regex.Replace(live.RuleSet.SourceYaml, "(?m)^version: .*$", $"version: \"{version}\"");
        (await store.AddDraftAsync(new StoredRuleSet(version, Advisor.Server.Storage.RuleSetState.Draft, yaml, "h", "tests", live.RuleSet.Version, 1, null, null, DateTimeOffset.UtcNow, null), Ct)).ShouldBeTrue();

        // The other server compiles new drafts ahead (its own loop does this every few polls; here it is asked now).
        var watcher = second.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Advisor.Server.Rules.LiveRuleSetWatcher>().Single();
        await watcher.PrepareDraftsAsync(Ct);
        watcher.IsPrepared(yaml).ShouldBeTrue();
        (await store.SetLiveAsync(version, live.Etag, new AuditRecord(Ids.New("a"), DateTimeOffset.UtcNow, "tests", "rules.publish", version, null, null), Ct)).ShouldNotBeNull();

        var seen = "";
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 0; attempt < 600 && seen != version; attempt++)
        {
            var answer = await clients[1].ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "Bought shoes once." }, ServerFixture.Deadline());
            seen = answer.Classification.RuleSetVersion;
            if (seen != version)
            {
                await Task.Delay(50, Ct);
            }
        }

        seen.ShouldBe(version);
        TestContext.Current.TestOutputHelper?.WriteLine($"The second server answered with {version} {stopwatch.ElapsedMilliseconds} ms after the publish.");
        watcher.CompiledAtSwitch.ShouldBe(0, "the draft was compiled ahead, so the switch was a lookup and a reference swap");
        await Task.WhenAll(first.StopAsync(Ct), second.StopAsync(Ct));
    }

    /// <summary>
    /// Buyer writes to both servers at once, every write sent to both (a client retrying on the other server behind a
    /// balancer), then checks through each server that every write is stored exactly once.
    /// </summary>
    private static async Task BuyerTrafficAsync(BuyerService.BuyerServiceClient first, BuyerService.BuyerServiceClient second, AdvisorService.AdvisorServiceClient[] advisors)
    {
        var buyers = new[] { first, second };
        var tag = Guid.NewGuid().ToString("N")[..8];

        // Creates: each request id to both servers at the same moment; one buyer each, the same answer from both.
        var creates = await Task.WhenAll(Enumerable.Range(0, 20).SelectMany(i => buyers.Select(client => client.CreateBuyerAsync(
            new CreateBuyerRequest { Buyer = new Buyer { DisplayName = $"Shared {tag} {i}", ExternalId = $"shared-{tag}-{i}" }, RequestId = $"create-{tag}-{i}" },
            ServerFixture.Deadline(30)).ResponseAsync)));
        var ids = creates.Select(b => b.Id).Distinct().ToList();
        ids.Count.ShouldBe(20, "a create retried on the other server is answered with the first buyer");

        // Interactions recorded with request ids and idempotency keys, each sent to both servers, while two import
        // streams (one per server) carry the same items, naming some existing buyers and some new ones by external id.
        var records = ids.SelectMany((id, n) => Enumerable.Range(0, 5).SelectMany(k => buyers.Select(client => client.RecordInteractionAsync(
            new RecordInteractionRequest
            {
                BuyerId = id,
                RequestId = $"record-{tag}-{n}-{k}",
                Interaction = new Interaction { Type = InteractionType.Meeting, OccurredAt = Timestamp(-k - 1), IdempotencyKey = $"meet-{k}" },
            },
            ServerFixture.Deadline(30)).ResponseAsync))).ToList();
        var importItems = Enumerable.Range(0, 600).Select(i => new Interaction
        {
            BuyerExternalId = $"shared-{tag}-{i % 30}",
            BuyerDisplayName = $"Shared {tag} {i % 30}",
            Type = InteractionType.Purchase,
            OccurredAt = Timestamp(-i - 10),
            Amount = 10,
            Currency = "EUR",
            IdempotencyKey = $"import-{i}",
        }).ToList();
        var imports = buyers.Select(client => ImportAsync(client, importItems)).ToList();
        var classifications = ids.Select((id, n) => advisors[n % 2].ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = id }, ServerFixture.Deadline(30)).ResponseAsync).ToList();
        var recorded = await Task.WhenAll(records);
        var imported = await Task.WhenAll(imports);
        (await Task.WhenAll(classifications)).ShouldAllBe(c => c.Classification != null);

        recorded.Select(r => r.Id).Distinct().Count().ShouldBe(100, "each recorded interaction is stored once, whichever server answered");
        imported.Sum(r => r.Accepted).ShouldBe(600, "between the two streams every item is accepted once");
        imported.Sum(r => r.Duplicates).ShouldBe(600, "and reported as a duplicate by the other");
        imported.Sum(r => r.BuyersCreated).ShouldBe(10, "external ids 20-29 name new buyers, each created once");

        // Read back through both servers: exact counts, no interaction twice.
        foreach (var client in buyers)
        {
            var listed = await client.ListBuyersAsync(new ListBuyersRequest { PageSize = 1000 }, ServerFixture.Deadline());
            var mine = listed.Buyers.Where(b => b.DisplayName.StartsWith($"Shared {tag} ", StringComparison.Ordinal)).ToList();
            mine.Count.ShouldBe(30);
            mine.Select(b => b.ExternalId).ShouldBeUnique();
            foreach (var buyer in mine)
            {
                var index = int.Parse(buyer.ExternalId.Split('-')[^1], System.Globalization.CultureInfo.InvariantCulture);
                var expected = (index < 20 ? 5 : 0) + 20;
                var page = await client.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = buyer.Id, PageSize = 1000 }, ServerFixture.Deadline());
                page.TotalSize.ShouldBe(expected);
                page.Interactions.Count.ShouldBe(expected);
                page.Interactions.Select(i => i.Id).ShouldBeUnique();
                buyer.InteractionCount.ShouldBe(expected);
            }
        }

        // Etags across servers: read on one, update on the other, and the first server's stale etag is refused.
        var read = await first.GetBuyerAsync(new GetBuyerRequest { Id = ids[0] }, ServerFixture.Deadline());
        var updated = await second.UpdateBuyerAsync(new UpdateBuyerRequest
        {
            Buyer = new Buyer { Id = ids[0], DisplayName = $"Renamed {tag}", Etag = read.Etag },
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "display_name" } },
        }, ServerFixture.Deadline());
        updated.Etag.ShouldNotBe(read.Etag);
        var stale = await Should.ThrowAsync<Grpc.Core.RpcException>(() => first.UpdateBuyerAsync(new UpdateBuyerRequest
        {
            Buyer = new Buyer { Id = ids[0], DisplayName = "Lost update", Etag = read.Etag },
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "display_name" } },
        }, ServerFixture.Deadline()).ResponseAsync);
        stale.StatusCode.ShouldBe(Grpc.Core.StatusCode.Aborted);

        // The first server's name index follows a rename made on the second (searches catch up from the change feed).
        var found = await first.SearchBuyersAsync(new SearchBuyersRequest { Query = $"Renamed {tag}", PageSize = 5 }, ServerFixture.Deadline());
        found.Buyers.ShouldContain(b => b.Id == ids[0]);
    }

    private static async Task<ImportInteractionsResponse> ImportAsync(BuyerService.BuyerServiceClient client, IReadOnlyList<Interaction> items)
    {
        using var call = client.ImportInteractions(ServerFixture.Deadline(60));
        foreach (var item in items)
        {
            await call.RequestStream.WriteAsync(new ImportInteractionsRequest { Interaction = item }, Ct);
        }

        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    private static Google.Protobuf.WellKnownTypes.Timestamp Timestamp(int hours) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(hours));
}

/// <summary>The API tests' server, on PostgreSQL instead of SQLite.</summary>
public sealed class PostgresServerFixture(PostgresInstance postgres) : ServerFixture
{
    protected override async ValueTask<IEnumerable<string>> PrepareArgumentsAsync() =>
        ["--Storage:Provider", "postgres", "--Storage:ConnectionString", await postgres.CreateDatabaseAsync(TestContext.Current.CancellationToken)];
}

public sealed class PostgresApiTests(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task The_advisor_api_works_the_same_on_postgres()
    {
        var classified = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "No contract; buys the cheapest standard items online." }, ServerFixture.Deadline());
        classified.Classification.Kind.ShouldBe(BuyerKind.Customer);
        var feedback = await server.Advisor.SubmitFeedbackAsync(new SubmitFeedbackRequest { ExpectedKind = BuyerKind.Customer, RequestId = "pg-1" }, ServerFixture.Deadline());
        (await server.Advisor.SubmitFeedbackAsync(new SubmitFeedbackRequest { ExpectedKind = BuyerKind.Customer, RequestId = "pg-1" }, ServerFixture.Deadline())).Id.ShouldBe(feedback.Id);
        var health = new Grpc.Health.V1.Health.HealthClient(server.Channel);
        (await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
    }
}
