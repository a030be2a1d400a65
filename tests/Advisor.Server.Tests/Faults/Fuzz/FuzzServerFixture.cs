using System.Collections.Concurrent;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Advisor.Server.Tests.Faults.Fuzz;

/// <summary>
/// A real server for fuzzing, with key checks off so every service (the key service included) is reached, and
/// a few real buyers, interactions, feedback, a draft rule set and page tokens, so generated requests can name
/// things that exist and get past the first lookup.
/// </summary>
public sealed class FuzzServerFixture : ServerFixture
{
    internal FuzzWorld World { get; private set; } = new();

    /// <summary>Errors the server logged (an unhandled exception behind an INTERNAL), shown with a failing case.</summary>
    internal ConcurrentQueue<string> Errors { get; } = new();

    protected override IEnumerable<string> ExtraArguments => ["--Security:RequireKeys", "false"];

    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(new ErrorCapture(Errors));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var world = new FuzzWorld();
        var buyers = new BuyerService.BuyerServiceClient(Channel);
        for (var i = 0; i < 4; i++)
        {
            var buyer = await buyers.CreateBuyerAsync(
                new CreateBuyerRequest { Buyer = new Buyer { DisplayName = $"Fuzz Buyer {i}", ExternalId = $"fuzz-ext-{i}", Industry = "law", Aliases = { $"FB{i}" } } },
                Deadline());
            world.BuyerIds.Add(buyer.Id);
            world.ExternalIds.Add(buyer.ExternalId);
            world.Names.Add(buyer.DisplayName);
            for (var n = 0; n < 3; n++)
            {
                await buyers.RecordInteractionAsync(
                    new RecordInteractionRequest
                    {
                        BuyerId = buyer.Id,
                        Interaction = new Interaction { Type = InteractionType.Purchase, OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-n - 1)), Amount = 10 + n, Currency = "EUR" },
                    },
                    Deadline());
            }

            world.Etags.Add((await buyers.GetBuyerAsync(new GetBuyerRequest { Id = buyer.Id }, Deadline())).Etag);
        }

        var classified = await Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = world.BuyerIds[0] }, Deadline());
        world.ClassificationIds.Add(classified.Classification.ClassificationId);
        for (var i = 0; i < 3; i++)
        {
            await Advisor.SubmitFeedbackAsync(
                new SubmitFeedbackRequest { ClassificationId = classified.Classification.ClassificationId, ReportedKind = BuyerKind.Customer, ExpectedKind = BuyerKind.Client, Comment = "fuzz seed " + i },
                Deadline());
        }

        var live = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), Deadline());
        world.LiveYaml = live.SourceYaml;
        world.RuleVersions.Add(live.Version);
        world.RuleEtags.Add(live.Etag);
        var draft = await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = Tests.Rules.RuleSources.WithVersion(live.SourceYaml, "fuzz-draft") }, Deadline());
        world.RuleVersions.Add(draft.Version);
        world.RuleEtags.Add(draft.Etag);

        var keys = new ApiKeyService.ApiKeyServiceClient(Channel);
        for (var i = 0; i < 2; i++)
        {
            var key = await keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = $"fuzz-key-{i}", Role = ApiKeyRole.Reader }, Deadline());
            world.KeyNames.Add(key.ApiKey.Name);
            world.KeyIds.Add(key.ApiKey.Id);
        }

        world.TopicNames.AddRange((await Knowledge.ListTopicsAsync(new ListTopicsRequest { PageSize = 20 }, Deadline())).Topics.Select(t => t.Name));

        // Real page tokens of every list, to be replayed, cut and altered.
        world.PageTokens.Add((await Knowledge.ListTopicsAsync(new ListTopicsRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await buyers.ListBuyersAsync(new ListBuyersRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await buyers.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = world.BuyerIds[0], PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await Advisor.ListFeedbackAsync(new ListFeedbackRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await Rules.ListRuleSetVersionsAsync(new ListRuleSetVersionsRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.Add((await keys.ListApiKeysAsync(new ListApiKeysRequest { PageSize = 1 }, Deadline())).NextPageToken);
        world.PageTokens.RemoveAll(string.IsNullOrEmpty);
        World = world;
    }
}

/// <summary>Names of things that exist on the fuzzed server.</summary>
internal sealed class FuzzWorld
{
    public List<string> BuyerIds { get; } = [];

    public List<string> ExternalIds { get; } = [];

    public List<string> Names { get; } = [];

    public List<string> Etags { get; } = [];

    public List<string> ClassificationIds { get; } = [];

    public List<string> RuleVersions { get; } = [];

    public List<string> RuleEtags { get; } = [];

    public List<string> KeyNames { get; } = [];

    public List<string> KeyIds { get; } = [];

    public List<string> TopicNames { get; } = [];

    public List<string> PageTokens { get; } = [];

    public string LiveYaml { get; set; } = "";
}

/// <summary>Keeps the server's error log entries, with their exceptions, so a failing fuzz case can show its cause.</summary>
internal sealed class ErrorCapture(ConcurrentQueue<string> errors) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            errors.Enqueue(formatter(state, exception) + " " + exception);
        }
    }

    public void Dispose()
    {
    }
}
