using System.Globalization;
using Advisor.Server.Classification;

namespace Advisor.Server.Rules;

/// <summary>One difference between two rule sets: the item (a path into the document), how, and the values.</summary>
public sealed record RuleSetDifference(string Item, string Change, string Before, string After);

/// <summary>Compares two compiled rule sets item by item, for the backtest report and the command line.</summary>
public static class RuleSetDiff
{
    public static IReadOnlyList<RuleSetDifference> Compare(CompiledRuleSet live, CompiledRuleSet draft)
    {
        var changes = new List<RuleSetDifference>();
        Keyed(changes, "rules", live.Rules, draft.Rules, r => r.Id, r => $"{r.Signal} {Weight(r.Weight)}: {r.Explanation}");
        Keyed(changes, "signals", live.Signals.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList(), draft.Signals.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList(),
            s => s.Id, s => $"\"{s.Label}\", {s.Patterns.Count} patterns" + (s.Patterns.Count > 0 ? $" ({Hash(string.Join('\n', s.Patterns))})" : ""));
        Keyed(changes, "industry_priors", live.Priors, draft.Priors, p => p.IndustryId, p => $"{Weight(p.Weight)}: {p.Explanation}");
        var a = live.Thresholds;
        var b = draft.Thresholds;
        Value(changes, "thresholds.min_evidence", a.MinEvidence, b.MinEvidence);
        Value(changes, "thresholds.decision_margin", a.DecisionMargin, b.DecisionMargin);
        Value(changes, "thresholds.hybrid_min_side", a.HybridMinSide, b.HybridMinSide);
        Value(changes, "thresholds.hybrid_balance", a.HybridBalance, b.HybridBalance);
        Value(changes, "thresholds.confidence_scale", a.ConfidenceScale, b.ConfidenceScale);
        Value(changes, "thresholds.negation_window", a.NegationWindow, b.NegationWindow);
        Value(changes, "thresholds.unsure_confidence", a.UnsureConfidence, b.UnsureConfidence);
        if (a.HybridRequiresSignal != b.HybridRequiresSignal)
        {
            changes.Add(new RuleSetDifference("thresholds.hybrid_requires_signal", "changed", a.HybridRequiresSignal ?? "", b.HybridRequiresSignal ?? ""));
        }

        return changes;
    }

    public static string Weight(double weight) => weight.ToString("+0.0#;-0.0#", CultureInfo.InvariantCulture);

    private static void Keyed<T>(List<RuleSetDifference> changes, string section, IReadOnlyList<T> live, IReadOnlyList<T> draft, Func<T, string> key, Func<T, string> describe)
    {
        var before = live.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => describe(g.First()), StringComparer.Ordinal);
        var after = draft.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => describe(g.First()), StringComparer.Ordinal);
        foreach (var (id, text) in before)
        {
            if (!after.TryGetValue(id, out var now))
            {
                changes.Add(new RuleSetDifference($"{section}.{id}", "removed", text, ""));
            }
            else if (now != text)
            {
                changes.Add(new RuleSetDifference($"{section}.{id}", "changed", text, now));
            }
        }

        foreach (var (id, text) in after.Where(p => !before.ContainsKey(p.Key)))
        {
            changes.Add(new RuleSetDifference($"{section}.{id}", "added", "", text));
        }
    }

    private static void Value(List<RuleSetDifference> changes, string item, double before, double after)
    {
        if (before != after)
        {
            changes.Add(new RuleSetDifference(item, "changed", before.ToString(CultureInfo.InvariantCulture), after.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>A short fingerprint, so a changed pattern list shows as changed without printing every pattern.</summary>
    private static string Hash(string text) =>
        "patterns " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
}
