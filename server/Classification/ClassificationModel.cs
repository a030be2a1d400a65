using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>A span of the input text, in UTF-16 offsets.</summary>
public readonly record struct Span(int Start, int End, string Text);

/// <summary>
/// A signal found about a buyer: in a description (with its span), in a typed profile,
/// or in a registry history (with the interactions behind it). The classifier only sees these.
/// </summary>
public sealed record SignalHit(string Signal, Span? Span, string Source, IReadOnlyList<string> InteractionIds)
{
    public const string FromDescription = "description";
    public const string FromProfile = "profile";
    public const string FromHistory = "history";
    public const string FromIndustry = "industry";

    public static SignalHit InText(string signal, Span span) => new(signal, span, FromDescription, []);

    public static SignalHit InProfile(string signal) => new(signal, null, FromProfile, []);
}

/// <summary>One weighed reason: positive weight leans client, negative leans customer.</summary>
public sealed record EvidenceItem(
    string Signal,
    string RuleId,
    double Weight,
    Span? Span,
    string Explanation,
    string Source,
    IReadOnlyList<string> InteractionIds);

/// <summary>The classifier's decision with everything needed to explain it.</summary>
public sealed record ClassificationResult(
    Kind Kind,
    double Confidence,
    double Score,
    double ClientWeight,
    double CustomerWeight,
    IReadOnlyList<EvidenceItem> Evidence,
    IReadOnlyList<string> OpenQuestions,
    string Summary,
    string RuleSetVersion,
    KnowledgeTopic? Industry,
    StrategyStage Stage);
