namespace Advisor.Server.Classification;

// The shape of a rule set document (Data/rules.yaml and every draft). Mutable only because
// the YAML reader fills it; the compiler turns it into an immutable CompiledRuleSet.
#pragma warning disable CA2227 // collection setters are what the YAML reader needs

internal sealed class RuleSetFile
{
    public string Version { get; set; } = "";

    public string? Description { get; set; }

    public ThresholdsEntry Thresholds { get; set; } = new();

    public ProfileEntry Profile { get; set; } = new();

    public List<string> NegationCues { get; set; } = [];

    public List<string> ClauseBreaks { get; set; } = [];

    public List<SignalEntry> Signals { get; set; } = [];

    public List<RuleEntry> Rules { get; set; } = [];

    public List<IndustryPriorEntry> IndustryPriors { get; set; } = [];

    public List<OpenQuestionEntry> OpenQuestions { get; set; } = [];

    public Dictionary<string, string> Summaries { get; set; } = [];
}

internal sealed class ThresholdsEntry
{
    public double MinEvidence { get; set; } = 2.0;

    public double DecisionMargin { get; set; } = 1.0;

    public double HybridMinSide { get; set; } = 2.5;

    public double HybridBalance { get; set; } = 0.4;

    public double ConfidenceScale { get; set; } = 4.0;

    public int NegationWindow { get; set; } = 4;

    public double UnsureConfidence { get; set; } = 0.6;

    public string? HybridRequiresSignal { get; set; }
}

internal sealed class ProfileEntry
{
    public double FrequentPurchasesPerYear { get; set; } = 12;

    public double OneOffPurchasesPerYear { get; set; } = 1;

    public double LongTenureMonths { get; set; } = 12;

    public double ShortTenureMonths { get; set; } = 3;

    public double LapsedAfterMonths { get; set; } = 12;

    public double AtRiskAfterMonths { get; set; } = 6;

    /// <summary>Profile condition (e.g. <c>agreement_active</c>) → signal id.</summary>
    public Dictionary<string, string> Signals { get; set; } = [];
}

internal sealed class SignalEntry
{
    public string Id { get; set; } = "";

    public string Label { get; set; } = "";

    public string? Description { get; set; }

    public List<string> Patterns { get; set; } = [];

    public string? Negated { get; set; }

    public string? Stage { get; set; }

    public string? Group { get; set; }
}

internal sealed class RuleEntry
{
    public string Id { get; set; } = "";

    public string Signal { get; set; } = "";

    public double Weight { get; set; }

    public string Explanation { get; set; } = "";
}

internal sealed class IndustryPriorEntry
{
    public string Industry { get; set; } = "";

    public double Weight { get; set; }

    public string Explanation { get; set; } = "";

    public string Source { get; set; } = "";
}

internal sealed class OpenQuestionEntry
{
    public string Group { get; set; } = "";

    public string Question { get; set; } = "";
}
