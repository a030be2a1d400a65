using Advisor.Server.Classification;
using Advisor.Server.Knowledge;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Buyers;

/// <summary>
/// Classifies registered buyers from their history: the aggregate row, the latest notes and the buyer's own
/// notes. When the result differs from the stored one (kind, or rule set version) it is saved, which records
/// the history entry and, for a change of kind, the interactions that caused it.
/// </summary>
public sealed class RegistryClassifier(IBuyerStore store, IOptions<BuyerOptions> options, TimeProvider time) : IRegisteredBuyerClassifier
{
    public async Task<ClassifiedBuyer?> ClassifyAsync(string buyerId, AdvisorSnapshot snapshot, string? industryHint, StrategyStage stage, CancellationToken cancellationToken) =>
        (await ClassifyProfileAsync(buyerId, snapshot, industryHint, stage, cancellationToken))?.Classified;

    /// <summary>The buyer's classification with the profile it came from; null when there is no such buyer.</summary>
    public async Task<(ClassifiedBuyer Classified, BuyerProfileData Profile)?> ClassifyProfileAsync(
        string buyerId, AdvisorSnapshot snapshot, string? industryHint, StrategyStage stage, CancellationToken cancellationToken)
    {
        var profile = await store.GetProfileAsync(buyerId, options.Value.RecentNotes, cancellationToken);
        if (profile is null)
        {
            return null;
        }

        var classified = Classify(profile, snapshot, industryHint, stage, time.GetUtcNow());
        var stored = profile.Buyer.Classification;
        var result = classified.Result;
        if (stored is null || stored.Kind != result.Kind || stored.RuleSetVersion != result.RuleSetVersion)
        {
            await SaveAsync(buyerId, result, profile.LastSequence, cancellationToken);
        }

        return (classified, profile);
    }

    /// <summary>Classifies one profile; pure, so the background worker and reads give the same answer.</summary>
    public static ClassifiedBuyer Classify(BuyerProfileData profile, AdvisorSnapshot snapshot, string? industryHint, StrategyStage stage, DateTimeOffset now)
    {
        var mapping = snapshot.Rules.Profile;
        var (facts, hits) = HistoryProfile.Build(profile, mapping, now);
        hits.AddRange(HistoryProfile.NoteHits(profile, snapshot.Rules.Extractor));
        var industry = snapshot.Knowledge.FindIndustry(industryHint) ?? snapshot.Knowledge.FindIndustry(profile.Buyer.Industry)
            ?? (profile.Buyer.Notes is { } notes ? BuyerClassifier.FindIndustryInText(snapshot.Knowledge, notes) : null);
        var requested = stage != StrategyStage.Any ? stage : HistoryProfile.Stage(facts, mapping) is var s && s is StrategyStage.New or StrategyStage.Active ? s : StrategyStage.Any;
        return BuyerClassifier.ClassifyHits(snapshot, hits, industry, requested);
    }

    /// <summary>Saves a result computed from interactions up to <paramref name="upToSequence"/>; true when the kind changed.</summary>
    public async Task<bool> SaveAsync(string buyerId, ClassificationResult result, long upToSequence, CancellationToken cancellationToken)
    {
        var saved = await store.SaveClassificationAsync(
            buyerId,
            new StoredClassification(result.Kind, result.Confidence, result.Score, result.Summary, result.RuleSetVersion, time.GetUtcNow()),
            upToSequence,
            cancellationToken);
        return saved.KindChanged;
    }
}
