using Advisor.Server.Classification;
using Advisor.Server.Conversation;

namespace Advisor.Server.Buyers;

/// <summary>
/// Resolves names in questions ("is Acme a client?") against the registry: an exact name or alias wins;
/// otherwise a unique word-prefix match ("Acme" → "Acme Corp"), otherwise a clearly best typo match.
/// Several equally good matches are returned as candidates.
/// </summary>
public sealed class RegistryBuyerDirectory(BuyerNameIndex index, NameIndexFeed feed, RegistryClassifier classifier) : IBuyerDirectory
{
    public const int MaxCandidates = 5;
    private const double ClearFuzzyScore = 85 * 7;
    private const double FuzzyMargin = 10 * 7;

    public async Task<BuyerLookupResult> LookupAsync(string name, AdvisorSnapshot snapshot, CancellationToken cancellationToken)
    {
        await feed.CatchUpAsync(cancellationToken);
        var matches = index.Search(name, 10);
        var chosen = Choose(matches);
        if (chosen.Count == 0)
        {
            return BuyerLookupResult.NotFound;
        }

        if (chosen.Count > 1)
        {
            return new BuyerLookupResult(BuyerLookupOutcome.Ambiguous, null, null,
                chosen.Take(MaxCandidates).Select(m => new BuyerReference(m.BuyerId, m.DisplayName)).ToList());
        }

        var match = chosen[0];
        var classified = await classifier.ClassifyAsync(match.BuyerId, snapshot, null, Knowledge.StrategyStage.Any, cancellationToken);
        return classified is null
            ? BuyerLookupResult.NotFound
            : new BuyerLookupResult(BuyerLookupOutcome.Found, new BuyerReference(match.BuyerId, match.DisplayName), classified, []);
    }

    /// <summary>The best tier of matches: exact, else prefix and word-prefix, else a clear typo match.</summary>
    public static IReadOnlyList<NameMatch> Choose(IReadOnlyList<NameMatch> matches)
    {
        var exact = matches.Where(m => m.Kind == NameMatchKind.Exact).ToList();
        if (exact.Count > 0)
        {
            return exact;
        }

        var prefix = matches.Where(m => m.Kind is NameMatchKind.Prefix or NameMatchKind.WordPrefix).ToList();
        if (prefix.Count > 0)
        {
            return prefix;
        }

        var fuzzy = matches.Where(m => m.Score >= ClearFuzzyScore).ToList();
        return fuzzy.Count switch
        {
            0 => [],
            1 => fuzzy,
            _ when fuzzy[0].Score - fuzzy[1].Score >= FuzzyMargin => [fuzzy[0]],
            _ => fuzzy,
        };
    }
}
