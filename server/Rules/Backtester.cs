using System.Globalization;
using Advisor.Server.Classification;

namespace Advisor.Server.Rules;

/// <summary>A case whose kind differs between the live set and the draft, with the strongest evidence under each.</summary>
public sealed record KindChange(
    string SubjectId,
    string DisplayName,
    string Population,
    Kind? Expected,
    Kind LiveKind,
    Kind DraftKind,
    IReadOnlyList<EvidenceItem> LiveEvidence,
    IReadOnlyList<EvidenceItem> DraftEvidence,
    string Reason);

/// <summary>Counts by (row kind, draft kind) in <see cref="Backtester.KindOrder"/> order.</summary>
public sealed record ConfusionMatrix(IReadOnlyDictionary<Kind, int[]> Rows)
{
    public static ConfusionMatrix From(IEnumerable<(Kind Row, Kind Column)> pairs)
    {
        var rows = Backtester.KindOrder.ToDictionary(k => k, _ => new int[Backtester.KindOrder.Count]);
        foreach (var (row, column) in pairs)
        {
            rows[row][Backtester.IndexOf(column)]++;
        }

        return new ConfusionMatrix(rows);
    }
}

/// <summary>What a backtest found.</summary>
public sealed record BacktestReport(
    string Version,
    string ContentHash,
    string LiveVersion,
    int LabelledCases,
    double DraftAccuracy,
    double LiveAccuracy,
    ConfusionMatrix DraftVsLabels,
    ConfusionMatrix LiveVsLabels,
    ConfusionMatrix DraftVsLive,
    int StoredCompared,
    int ChangesTotal,
    IReadOnlyList<KindChange> Changes,
    IReadOnlyList<RuleSetDifference> RuleChanges);

/// <summary>
/// Classifies the labelled set and the stored cases under the live snapshot and under a draft, and
/// reports where they differ. Pure: both snapshots are immutable, so it runs alongside live traffic.
/// </summary>
public static class Backtester
{
    public const int TopEvidence = 3;

    public static readonly IReadOnlyList<Kind> KindOrder = [Kind.Client, Kind.Customer, Kind.Hybrid, Kind.Undetermined];

    public static int IndexOf(Kind kind) => kind switch
    {
        Kind.Client => 0,
        Kind.Customer => 1,
        Kind.Hybrid => 2,
        _ => 3,
    };

    /// <summary>A stored case's classification under one snapshot; null when it no longer exists (a deleted buyer).</summary>
    public delegate Task<ClassificationResult?> ClassifyStored(StoredCase stored, AdvisorSnapshot snapshot, CancellationToken cancellationToken);

    public static async Task<BacktestReport> RunAsync(
        AdvisorSnapshot live,
        CompiledRuleSet draft,
        string contentHash,
        IReadOnlyList<LabelledCase> labelled,
        IReadOnlyList<StoredCase> stored,
        ClassifyStored classifyStored,
        int maxChanges,
        CancellationToken cancellationToken)
    {
        var candidate = live with { Rules = draft };
        var changes = new List<KindChange>();
        var labelPairs = new List<(Kind Expected, Kind Live, Kind Draft)>();
        var livePairs = new List<(Kind Live, Kind Draft)>();
        foreach (var c in labelled)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = BuyerClassifier.ClassifyText(live, c.Text, c.Industry).Result;
            var after = BuyerClassifier.ClassifyText(candidate, c.Text, c.Industry).Result;
            labelPairs.Add((c.Expected, before.Kind, after.Kind));
            livePairs.Add((before.Kind, after.Kind));
            if (before.Kind != after.Kind)
            {
                changes.Add(Change(c.Id, ColumnText(c.Text), "labelled", c.Expected, before, after));
            }
        }

        var storedCompared = 0;
        foreach (var s in stored)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = await classifyStored(s, live, cancellationToken);
            var after = await classifyStored(s, candidate, cancellationToken);
            if (before is null || after is null)
            {
                continue;
            }

            storedCompared++;
            livePairs.Add((before.Kind, after.Kind));
            if (before.Kind != after.Kind)
            {
                changes.Add(Change(s.Id, s.DisplayName, "stored", null, before, after));
            }
        }

        var correctDraft = labelPairs.Count(p => p.Expected == p.Draft);
        var correctLive = labelPairs.Count(p => p.Expected == p.Live);
        return new BacktestReport(
            draft.Version,
            contentHash,
            live.Rules.Version,
            labelPairs.Count,
            labelPairs.Count == 0 ? 0 : (double)correctDraft / labelPairs.Count,
            labelPairs.Count == 0 ? 0 : (double)correctLive / labelPairs.Count,
            ConfusionMatrix.From(labelPairs.Select(p => (p.Expected, p.Draft))),
            ConfusionMatrix.From(labelPairs.Select(p => (p.Expected, p.Live))),
            ConfusionMatrix.From(livePairs),
            storedCompared,
            changes.Count,
            changes.Take(maxChanges).ToList(),
            RuleSetDiff.Compare(live.Rules, draft));
    }

    private static KindChange Change(string id, string name, string population, Kind? expected, ClassificationResult before, ClassificationResult after) =>
        new(id, name, population, expected, before.Kind, after.Kind, Top(before.Evidence), Top(after.Evidence), Reason(before, after));

    private static IReadOnlyList<EvidenceItem> Top(IReadOnlyList<EvidenceItem> evidence) =>
        evidence.OrderByDescending(e => Math.Abs(e.Weight)).ThenBy(e => e.RuleId, StringComparer.Ordinal).Take(TopEvidence).ToList();

    /// <summary>Says which evidence appeared, disappeared or changed weight; when none did, the thresholds decided differently.</summary>
    public static string Reason(ClassificationResult before, ClassificationResult after)
    {
        var old = before.Evidence.GroupBy(e => e.RuleId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(e => e.Weight), StringComparer.Ordinal);
        var now = after.Evidence.GroupBy(e => e.RuleId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(e => e.Weight), StringComparer.Ordinal);
        var parts = new List<string>();
        foreach (var (rule, weight) in now.Where(p => !old.ContainsKey(p.Key)).OrderByDescending(p => Math.Abs(p.Value)))
        {
            parts.Add($"{rule} now applies ({RuleSetDiff.Weight(weight)})");
        }

        foreach (var (rule, weight) in old.Where(p => !now.ContainsKey(p.Key)).OrderByDescending(p => Math.Abs(p.Value)))
        {
            parts.Add($"{rule} no longer applies (was {RuleSetDiff.Weight(weight)})");
        }

        foreach (var (rule, weight) in now.Where(p => old.TryGetValue(p.Key, out var w) && w != p.Value))
        {
            parts.Add($"{rule} {RuleSetDiff.Weight(old[rule])} → {RuleSetDiff.Weight(weight)}");
        }

        var score = string.Create(CultureInfo.InvariantCulture, $"score {before.Score:0.0#} → {after.Score:0.0#}");
        return parts.Count == 0
            ? $"same evidence; the draft's thresholds decide differently ({score})"
            : string.Join("; ", parts) + $" ({score})";
    }

    private static string ColumnText(string text) => StoredPopulation.Shorten(text);
}
