using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>A classification together with the strategies that fit it.</summary>
public sealed record ClassifiedBuyer(ClassificationResult Result, IReadOnlyList<EngagementStrategy> Strategies);

/// <summary>
/// Classifies descriptions, typed facts and signal lists against one snapshot. Pure and
/// allocation-light: no I/O, so it is what the benchmarks measure.
/// </summary>
public static class BuyerClassifier
{
    public const int StrategiesPerClassification = 3;

    /// <param name="withStrategies">False when the caller will not show strategies (ClassifyBuyer's basic view): they are not looked up.</param>
    /// <param name="withSpans">False when the caller will not show the evidence's spans (ClassifyBuyer's basic view): the evidence carries none.</param>
    public static ClassifiedBuyer ClassifyText(AdvisorSnapshot snapshot, string text, string? industryHint = null, StrategyStage stage = StrategyStage.Any, bool withStrategies = true, bool withSpans = true)
    {
        var industry = snapshot.Knowledge.FindIndustry(industryHint) ?? FindIndustryInText(snapshot.Knowledge, text);
        return Finish(snapshot, snapshot.Rules.ClassifyText(text, industry, stage, withSpans), withStrategies);
    }

    /// <param name="withStrategies">False when the caller will not show strategies (ClassifyBuyer's basic view): they are not looked up.</param>
    public static ClassifiedBuyer ClassifyFacts(AdvisorSnapshot snapshot, BuyerFacts facts, string? industryHint = null, StrategyStage stage = StrategyStage.Any, bool withStrategies = true)
    {
        var industry = snapshot.Knowledge.FindIndustry(industryHint) ?? snapshot.Knowledge.FindIndustry(facts.Industry);
        return Finish(snapshot, snapshot.Rules.ClassifyProfile(facts, industry, stage), withStrategies);
    }

    public static ClassifiedBuyer ClassifyHits(AdvisorSnapshot snapshot, IReadOnlyList<SignalHit> hits, KnowledgeTopic? industry, StrategyStage stage = StrategyStage.Any) =>
        Finish(snapshot, snapshot.Rules.Classify(hits, industry, stage));

    /// <summary>The first industry named in the text, e.g. "our law firm" → law.</summary>
    public static KnowledgeTopic? FindIndustryInText(KnowledgeBase knowledge, string text) => knowledge.FirstIndustryIn(text);

    private static ClassifiedBuyer Finish(AdvisorSnapshot snapshot, ClassificationResult result, bool withStrategies = true)
    {
        var strategies = result.Kind == Kind.Undetermined || !withStrategies
            ? []
            : snapshot.Knowledge.SuggestStrategies(result.Kind, result.Industry?.Id, result.Stage, StrategiesPerClassification);
        return new ClassifiedBuyer(result, strategies);
    }
}
