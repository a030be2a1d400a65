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
            "--Rules:PollInterval", "00:00:00.200", "--Logging:LogLevel:Default", "Warning"];
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
        var stored = await Task.WhenAll(writes);
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
