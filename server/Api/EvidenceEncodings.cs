using System.Runtime.CompilerServices;
using Advisor.Server.Classification;
using Advisor.V1;
using Google.Protobuf;

namespace Advisor.Server.Api;

/// <summary>
/// The evidence fields that are the same in every answer naming a rule (signal, rule id, weight, explanation), encoded
/// once per rule set, and the four sources' fields encoded once. A description's full answer names each rule's
/// explanation (the rule's own text, a few hundred bytes); counting and transcoding it to UTF-8 twice per item per call
/// was most of writing that answer. Kept per rule set object, so a reloaded rule set gets its own and the old one is
/// collected with it. Shared by concurrent responses; nothing here changes after it is built.
/// </summary>
public sealed class EvidenceEncodings
{
    private readonly ConditionalWeakTable<CompiledRuleSet, RuleEvidence> _sets = [];

    /// <summary>The encoded fields of this rule set's rules and industry priors.</summary>
    public RuleEvidence For(CompiledRuleSet rules) =>
        _sets.TryGetValue(rules, out var kept) ? kept : _sets.GetValue(rules, static r => new RuleEvidence(r));

    /// <summary>The encoded source field (6) of one of the sources the classifier names, or null for any other text.</summary>
    public static byte[]? SourceField(string source) => source switch
    {
        SignalHit.FromDescription => Sources.Description,
        SignalHit.FromProfile => Sources.Profile,
        SignalHit.FromHistory => Sources.History,
        SignalHit.FromIndustry => Sources.Industry,
        _ => null,
    };

    private static class Sources
    {
        public static readonly byte[] Description = new Evidence { Source = SignalHit.FromDescription }.ToByteArray();
        public static readonly byte[] Profile = new Evidence { Source = SignalHit.FromProfile }.ToByteArray();
        public static readonly byte[] History = new Evidence { Source = SignalHit.FromHistory }.ToByteArray();
        public static readonly byte[] Industry = new Evidence { Source = SignalHit.FromIndustry }.ToByteArray();
    }
}

/// <summary>One rule set's encoded evidence fields, by rule id (the industry priors' too).</summary>
public sealed class RuleEvidence
{
    private readonly Dictionary<string, EncodedRule> _byRuleId = new(StringComparer.Ordinal);

    internal RuleEvidence(CompiledRuleSet rules)
    {
        foreach (var rule in rules.Rules)
        {
            _byRuleId.TryAdd(rule.Id, new EncodedRule(rule.Signal, rule.Id, rule.Weight, rule.Explanation));
        }

        foreach (var (signal, ruleId, weight, explanation) in rules.PriorEvidenceItems)
        {
            _byRuleId.TryAdd(ruleId, new EncodedRule(signal, ruleId, weight, explanation));
        }
    }

    /// <summary>
    /// The kept fields of the rule this item names, or null when the item's signal, weight or explanation are not that
    /// rule's (an item made elsewhere, or by another rule set): the caller then writes the item's own fields.
    /// </summary>
    public EncodedRule? For(EvidenceItem item) => _byRuleId.TryGetValue(item.RuleId, out var kept) && kept.Matches(item) ? kept : null;
}

/// <summary>A rule's constant evidence fields, encoded by the generated serializer, so they are its bytes exactly.</summary>
public sealed class EncodedRule
{
    private readonly string _signal;
    private readonly double _weight;
    private readonly string _explanation;

    internal EncodedRule(string signal, string ruleId, double weight, string explanation)
    {
        (_signal, _weight, _explanation) = (signal, weight, explanation);
        Head = new Evidence { Signal = signal, RuleId = ruleId, Weight = weight }.ToByteArray();
        ExplanationField = new Evidence { Explanation = explanation }.ToByteArray();
    }

    /// <summary>Fields 1–3 (signal, rule id, weight), which come before the span.</summary>
    public byte[] Head { get; }

    /// <summary>Field 5 (explanation; empty when the explanation is), which comes after the span.</summary>
    public byte[] ExplanationField { get; }

    /// <summary>Whether the item carries this rule's values (the rule id was the lookup's key); the weight by its bits, as it is encoded.</summary>
    public bool Matches(EvidenceItem item) =>
        string.Equals(item.Signal, _signal, StringComparison.Ordinal)
        && BitConverter.DoubleToInt64Bits(item.Weight) == BitConverter.DoubleToInt64Bits(_weight)
        && string.Equals(item.Explanation, _explanation, StringComparison.Ordinal);
}
