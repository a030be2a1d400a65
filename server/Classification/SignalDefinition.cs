using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>A signal the extractor can produce, with what it becomes when negated ("no contract").</summary>
public sealed record SignalDefinition(
    string Id,
    string Label,
    string? NegatedSignal,
    StrategyStage? Stage,
    string? Group,
    IReadOnlyList<string> Patterns);

/// <summary>A rule: one signal, one weight toward client (positive) or customer (negative), and why.</summary>
public sealed record Rule(string Id, string Signal, double Weight, string Explanation);

/// <summary>A prior lean for an industry; always weaker than evidence and never enough alone.</summary>
public sealed record IndustryPrior(string IndustryId, double Weight, string Explanation, string SourceTitle);

/// <summary>A question to ask when nothing is known about one group of signals.</summary>
public sealed record OpenQuestion(string Group, string Question);

/// <summary>Numbers that turn weights into a decision; all come from the rule set file.</summary>
public sealed record DecisionThresholds(
    double MinEvidence,
    double DecisionMargin,
    double HybridMinSide,
    double HybridBalance,
    double ConfidenceScale,
    int NegationWindow,
    double UnsureConfidence,
    string? HybridRequiresSignal);

/// <summary>How typed profile values become signals.</summary>
public sealed record ProfileMapping(
    double FrequentPurchasesPerYear,
    double OneOffPurchasesPerYear,
    double LongTenureMonths,
    double ShortTenureMonths,
    double LapsedAfterMonths,
    double AtRiskAfterMonths,
    IReadOnlyDictionary<string, string> Signals)
{
    /// <summary>The profile conditions a rule set may map to signals.</summary>
    public static readonly IReadOnlySet<string> KnownConditions = new HashSet<string>(StringComparer.Ordinal)
    {
        "agreement_none", "agreement_active", "agreement_ended", "retainer_true", "retainer_false",
        "offering_goods", "offering_standard_service", "offering_professional_service", "offering_advice", "offering_mixed",
        "personalised_true", "personalised_false", "two_way_true", "two_way_false", "price_focused_true", "price_focused_false",
        "dedicated_contact_true", "dedicated_contact_false", "trust_true", "trust_false",
        "frequent_purchases", "occasional_purchases", "one_off_purchase", "long_tenure", "medium_tenure", "short_tenure",
        "market_b2b", "market_b2c", "lapsed", "at_risk",
    };

    public string? SignalFor(string condition) => Signals.GetValueOrDefault(condition);
}
