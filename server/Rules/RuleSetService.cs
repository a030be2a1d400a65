using System.Text.Json;
using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Hosting;
using Advisor.Server.Knowledge;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Rules;

/// <summary>A stored version together with the live etag, which every rule set answer carries.</summary>
public sealed record RuleSetView(StoredRuleSet RuleSet, string LiveEtag, IReadOnlyList<DataFileProblem> Problems);

/// <summary>The outcome of validating a rule set.</summary>
public sealed record RuleSetValidation(IReadOnlyList<DataFileProblem> Problems, int RuleCount)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// The rule set workflow: drafts, validation, backtests, publish and rollback, each change in the
/// audit log. Used by the gRPC service and the command line alike; callers pass who is acting.
/// Publishing goes through the store's etag-guarded <see cref="IRuleSetStore.SetLiveAsync"/>, so two
/// publishers (on this server or another) cannot both win, and an invalid draft never becomes live.
/// </summary>
public sealed partial class RuleSetService(
    IRuleSetStore store,
    IAuditLog audit,
    SnapshotHolder snapshots,
    IBacktestPopulation population,
    IRegisteredBuyerClassifier registeredBuyers,
    IOptions<RuleSetOptions> options,
    IOptions<DataOptions> data,
    TimeProvider time,
    ILogger<RuleSetService> logger) : IDisposable
{
    public const int MaxSourceLength = 1024 * 1024;

    private const int CachedCompilations = 8;

    private readonly SemaphoreSlim _publishGate = new(1, 1);

    // Compiling generates and jits the pattern matchers, which takes seconds on a busy machine; a draft is
    // usually created, backtested and published in a row, so its compilation is kept by content hash.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<RuleSetCompilation>> _compiled = new(StringComparer.Ordinal);
    private readonly Lazy<IReadOnlyList<LabelledCase>> _labelled = new(() => LabelledSet.Load(options.Value.ResolveLabelledSetPath(data.Value.Directory)));

    public void Dispose() => _publishGate.Dispose();

    /// <summary>The live rule set, or the named version.</summary>
    public async Task<RuleSetView> GetAsync(string? version, CancellationToken cancellationToken)
    {
        var live = await store.GetLiveAsync(cancellationToken) ?? throw new NotFoundException("rule set", "live");
        if (string.IsNullOrEmpty(version) || version == live.RuleSet.Version)
        {
            return View(live.RuleSet, live.Etag);
        }

        var stored = await store.GetAsync(version, cancellationToken) ?? throw new NotFoundException("rule set", version);
        return View(stored, live.Etag);
    }

    public async Task<(Page<StoredRuleSet> Page, string LiveEtag)> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var page = await store.ListAsync(pageSize, pageToken, cancellationToken);
        var live = await store.GetLiveAsync(cancellationToken);
        return (page, live?.Etag ?? "");
    }

    /// <summary>Checks YAML source against the knowledge the server has loaded; every problem, with its location.</summary>
    public RuleSetValidation Validate(string sourceYaml)
    {
        var compiled = Compile(sourceYaml, AdvisorInitializer.Hash(sourceYaml));
        return new RuleSetValidation(compiled.Problems, compiled.RuleCount);
    }

    public async Task<RuleSetValidation> ValidateStoredAsync(string version, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(version, cancellationToken) ?? throw new NotFoundException("rule set", version);
        return Validate(stored.SourceYaml);
    }

    /// <summary>
    /// Stores a draft under the version its source names (or <c>draft-&lt;hash&gt;</c> when it names none usable).
    /// Sending the same source again returns the same draft; a different source under a taken version is refused.
    /// </summary>
    public async Task<RuleSetView> CreateDraftAsync(string sourceYaml, string actor, CancellationToken cancellationToken)
    {
        var hash = AdvisorInitializer.Hash(sourceYaml);
        var compiled = Compile(sourceYaml, hash);
        var version = compiled.RuleSet?.Version ?? DeclaredVersion(sourceYaml) ?? "draft-" + hash[..12];
        var existing = await store.GetAsync(version, cancellationToken);
        if (existing is not null)
        {
            return existing.ContentHash == hash
                ? await GetAsync(version, cancellationToken)
                : throw new AlreadyExistsException($"Rule set version '{version}' exists with different content; give the draft a new `version:`.");
        }

        var live = await store.GetLiveAsync(cancellationToken);
        var draft = new StoredRuleSet(version, RuleSetState.Draft, sourceYaml, hash, actor, live?.RuleSet.Version, compiled.RuleCount,
            compiled.Problems.Count == 0 ? null : JsonSerializer.Serialize(compiled.Problems), null, time.GetUtcNow(), null);
        if (!await store.AddDraftAsync(draft, cancellationToken))
        {
            // Another caller stored the same version between the read and the insert.
            return await CreateDraftAsync(sourceYaml, actor, cancellationToken);
        }

        await audit.AppendAsync(new AuditRecord(Ids.New("a"), time.GetUtcNow(), actor, "rules.draft", version, live?.RuleSet.Version,
            compiled.Problems.Count == 0 ? $"{compiled.RuleCount} rules" : $"{compiled.Problems.Count} problems"), cancellationToken);
        return View(draft, live?.Etag ?? "");
    }

    /// <summary>Runs a stored version over the labelled set and the stored cases, compares it with the live set, and records that it was backtested.</summary>
    public async Task<BacktestReport> BacktestAsync(string version, int maxChanges, string actor, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(version, cancellationToken) ?? throw new NotFoundException("rule set", version);
        var snapshot = snapshots.Current;
        var compiled = Compile(stored.SourceYaml, stored.ContentHash);
        if (compiled.RuleSet is null)
        {
            throw new PreconditionException($"Rule set '{version}' has {compiled.Problems.Count} problems; fix them (ValidateRuleSet lists them) before a backtest.");
        }

        var cases = await population.LoadAsync(options.Value.BacktestStoredLimit, cancellationToken);
        var report = await Backtester.RunAsync(snapshot, compiled.RuleSet, stored.ContentHash, _labelled.Value, cases, ClassifyStoredAsync, maxChanges, cancellationToken);
        await store.RecordBacktestAsync(version, stored.ContentHash, cancellationToken);
        await audit.AppendAsync(new AuditRecord(Ids.New("a"), time.GetUtcNow(), actor, "rules.backtest", version, snapshot.Rules.Version,
            $"accuracy {report.DraftAccuracy:P1} (live {report.LiveAccuracy:P1}); {report.ChangesTotal} cases change kind"), cancellationToken);
        return report;
    }

    /// <summary>Makes a valid draft live if the live etag is still <paramref name="etag"/>; this server switches at once, the others within their poll interval.</summary>
    public Task<RuleSetView> PublishAsync(string version, string etag, bool requireBacktest, string actor, CancellationToken cancellationToken) =>
        MakeLiveAsync(version, etag, actor, "rules.publish", stored =>
        {
            switch (stored.State)
            {
                case RuleSetState.Live:
                    throw new PreconditionException($"Rule set '{version}' is already live.");
                case RuleSetState.Retired:
                    throw new PreconditionException($"Rule set '{version}' was live before; use RollbackRuleSet to make it live again.");
            }

            if ((requireBacktest || options.Value.RequireBacktest) && stored.BacktestHash != stored.ContentHash)
            {
                throw new PreconditionException($"Rule set '{version}' has not been backtested in its current content; run BacktestRuleSet first.");
            }
        }, cancellationToken);

    /// <summary>Makes a version that was live before live again.</summary>
    public Task<RuleSetView> RollbackAsync(string version, string etag, string actor, CancellationToken cancellationToken) =>
        MakeLiveAsync(version, etag, actor, "rules.rollback", stored =>
        {
            switch (stored.State)
            {
                case RuleSetState.Live:
                    throw new PreconditionException($"Rule set '{version}' is already live.");
                case RuleSetState.Draft:
                    throw new PreconditionException($"Rule set '{version}' was never published; roll back only to an earlier live version.");
            }
        }, cancellationToken);

    public Task<Page<AuditRecord>> ListAuditAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        audit.ListAsync(pageSize, pageToken, cancellationToken);

    private async Task<RuleSetView> MakeLiveAsync(string version, string etag, string actor, string action, Action<StoredRuleSet> check, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(version, cancellationToken) ?? throw new NotFoundException("rule set", version);
        check(stored);
        var compiled = Compile(stored.SourceYaml, stored.ContentHash);
        if (compiled.RuleSet is null)
        {
            throw new PreconditionException($"Rule set '{version}' has {compiled.Problems.Count} problems and cannot become live; ValidateRuleSet lists them.");
        }

        // One change at a time on this server, so the snapshot swaps in the same order the store saw.
        await _publishGate.WaitAsync(cancellationToken);
        try
        {
            var entry = new AuditRecord(Ids.New("a"), time.GetUtcNow(), actor, action, version, null, $"content {stored.ContentHash[..12]}");
            var live = await store.SetLiveAsync(version, etag, entry, cancellationToken)
                ?? throw new ConflictException("The live rule set changed since that etag was read; get the live rule set and try again.");
            var previous = snapshots.Current.Rules.Version;
            snapshots.Publish(compiled.RuleSet);
            LogMadeLive(logger, action, version, previous, actor);
            return View(live.RuleSet, live.Etag);
        }
        finally
        {
            _publishGate.Release();
        }
    }

    private RuleSetCompilation Compile(string sourceYaml, string contentHash)
    {
        if (_compiled.Count >= CachedCompilations)
        {
            _compiled.Clear();
        }

        return _compiled.GetOrAdd(contentHash, _ => new Lazy<RuleSetCompilation>(() => RuleSetCompiler.Compile(sourceYaml, "rule set", snapshots.Current.Knowledge))).Value;
    }

    private async Task<ClassificationResult?> ClassifyStoredAsync(StoredCase stored, AdvisorSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (stored.Text is { } text)
        {
            return BuyerClassifier.ClassifyText(snapshot, text).Result;
        }

        return stored.BuyerId is { } id
            ? (await registeredBuyers.ClassifyAsync(id, snapshot, null, StrategyStage.Any, cancellationToken))?.Result
            : null;
    }

    private static RuleSetView View(StoredRuleSet stored, string etag) =>
        new(stored, etag, stored.ProblemsJson is null ? [] : JsonSerializer.Deserialize<List<DataFileProblem>>(stored.ProblemsJson) ?? []);

    /// <summary>The version an invalid source declares, when it can be read at all and is usable as a key.</summary>
    private static string? DeclaredVersion(string sourceYaml)
    {
        try
        {
            var version = YamlDocument.Parse<RuleSetFile>(sourceYaml, "rule set").Value.Version;
            return !string.IsNullOrWhiteSpace(version) && version.Length <= 64 && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') ? version : null;
        }
        catch (DataFileException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "{Action}: rule set {Version} is live (was {Previous}), by {Actor}")]
    private static partial void LogMadeLive(ILogger logger, string action, string version, string previous, string actor);
}
