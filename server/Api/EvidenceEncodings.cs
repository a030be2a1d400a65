using System.Collections.Frozen;
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

    /// <summary>
    /// The rule set of the last answer and its fields. Why: every answer between two reloads names the same rule set, and
    /// the weak table's lookup (a lock-free read of its container, the key's identity hash) was a visible part of writing
    /// an answer under load (perf, docs/benchmarks.md "ClassifyBuyer(description) outside classification"). Holds the
    /// last rule set alive only until an answer names another one.
    /// </summary>
    private volatile RuleEvidence? _last;

    /// <summary>The encoded fields of this rule set's rules and industry priors.</summary>
    public RuleEvidence For(CompiledRuleSet rules)
    {
        if (_last is { } last && ReferenceEquals(last.Rules, rules))
        {
            return last;
        }

        var kept = _sets.TryGetValue(rules, out var found) ? found : _sets.GetValue(rules, static r => new RuleEvidence(r));
        _last = kept;
        return kept;
    }

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

/// <summary>One rule set's encoded evidence fields, by rule id (the industry priors' too), and its version's field.</summary>
public sealed class RuleEvidence
{
    /// <summary>By the rule id's text: for an item whose rule id is not the rule's own string (made elsewhere).</summary>
    private readonly FrozenDictionary<string, EncodedRule> _byRuleId;

    /// <summary>
    /// By the rule id's string object, open addressing on its identity hash, at most half full. Why: the classifier
    /// names each rule by the rule's own id string, so an item's rule is found without hashing the id's characters;
    /// hashing them once per evidence item (a dictionary lookup, ~15 ns in-process and a cache miss under load) was the
    /// largest part of writing a basic answer (docs/benchmarks.md, "ClassifyBuyer(description) outside classification").
    /// </summary>
    private readonly IdentityTable<string, EncodedRule> _byRuleIdObject;

    /// <summary>
    /// By the evidence item object, for the items the rule set makes once and shares (<see cref="CompiledRuleSet.SharedEvidenceItems"/>:
    /// every item of a basic or profile answer), each with its rule's kept fields already matched against it. Why: under
    /// load, finding an item's rule by its id string and comparing the item's signal and explanation with the rule's
    /// read three more objects per item, cache misses that made the lookup most of sizing a basic answer (perf,
    /// docs/benchmarks.md "ClassifyBuyer(description) outside classification"); the item itself is read anyway.
    /// </summary>
    private readonly IdentityTable<EvidenceItem, EncodedRule> _byItem;

    /// <summary>
    /// Per item of the rule set's <see cref="CompiledRuleSet.SharedEvidenceItems"/>, by its number, its fields as a full
    /// answer writes them around a span. Why by number: a description's full-view evidence (<see cref="DescriptionEvidence"/>)
    /// names its items by number, so the writer finds their bytes by indexing, without hashing an object or comparing
    /// an item's strings with its rule's (what finding an item made per call cost, docs/benchmarks.md).
    /// </summary>
    private readonly EncodedSharedItem[] _shared;

    internal RuleEvidence(CompiledRuleSet rules)
    {
        Rules = rules;
        var byRuleId = new Dictionary<string, EncodedRule>(StringComparer.Ordinal);
        foreach (var rule in rules.Rules)
        {
            byRuleId.TryAdd(rule.Id, new EncodedRule(rule.Signal, rule.Id, rule.Weight, rule.Explanation));
        }

        foreach (var (signal, ruleId, weight, explanation) in rules.PriorEvidenceItems)
        {
            byRuleId.TryAdd(ruleId, new EncodedRule(signal, ruleId, weight, explanation));
        }

        _byRuleId = byRuleId.ToFrozenDictionary(StringComparer.Ordinal);
        _byRuleIdObject = new([.. byRuleId.Select(pair => (pair.Key, (EncodedRule?)pair.Value))]);
        _byItem = new([.. rules.SharedEvidenceItems.Distinct(ReferenceEqualityComparer.Instance).Cast<EvidenceItem>()
            .Select(item => (item, ForRuleId(item)))]);

        SharedItems = rules.SharedEvidenceItems;
        _shared = [.. SharedItems.Select(item => new EncodedSharedItem(item))];
        Version = rules.Version;
        VersionField = new V1.Classification { RuleSetVersion = rules.Version }.ToByteArray();
    }

    /// <summary>The rule set's shared evidence items, which <see cref="SharedItemsOf"/> gives the fields of.</summary>
    public IReadOnlyList<EvidenceItem> SharedItems { get; }

    /// <summary>The rule set these fields are of.</summary>
    public CompiledRuleSet Rules { get; }

    /// <summary>The rule set's version, which every classification made with it carries.</summary>
    public string Version { get; }

    /// <summary>The classification's rule_set_version field with <see cref="Version"/>, encoded by the generated serializer.</summary>
    public byte[] VersionField { get; }

    /// <summary>
    /// The kept fields of the rule this item names, or null when the item's signal, weight or explanation are not that
    /// rule's (an item made elsewhere, or by another rule set): the caller then writes the item's own fields.
    /// </summary>
    public EncodedRule? For(EvidenceItem item)
    {
        return _byItem.TryGetValue(item, out var kept) ? kept : ForRuleId(item);
    }

    /// <summary>
    /// The kept fields of the shared items <paramref name="evidence"/> numbers, by number; empty when it numbers another
    /// rule set's items (the caller then writes its items as the list gives them).
    /// </summary>
    public ReadOnlySpan<EncodedSharedItem> SharedItemsOf(DescriptionEvidence evidence) =>
        ReferenceEquals(evidence.Shared, SharedItems) ? _shared : default;

    /// <summary>The kept fields of the rule the item names by its rule id, if the item carries that rule's values.</summary>
    private EncodedRule? ForRuleId(EvidenceItem item)
    {
        var rule = _byRuleIdObject.TryGetValue(item.RuleId, out var byObject) ? byObject : _byRuleId.GetValueOrDefault(item.RuleId);
        return rule is not null && rule.Matches(item) ? rule : null;
    }
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

/// <summary>
/// A shared evidence item's fields (<see cref="CompiledRuleSet.SharedEvidenceItems"/>) encoded by the generated serializer:
/// those before the span and those after it, so that an item of a <see cref="DescriptionEvidence"/> is written as
/// <see cref="Head"/>, its span, <see cref="Tail"/>, exactly the bytes of the whole message (the generated code writes
/// fields in number order, each on its own).
/// </summary>
public sealed class EncodedSharedItem
{
    internal EncodedSharedItem(EvidenceItem item)
    {
        Span = item.Span;
        Head = new Evidence { Signal = item.Signal, RuleId = item.RuleId, Weight = item.Weight }.ToByteArray();
        var tail = new Evidence { Explanation = item.Explanation, Source = item.Source };
        tail.InteractionIds.AddRange(item.InteractionIds);
        Tail = tail.ToByteArray();
        Length = Head.Length + Tail.Length;
    }

    /// <summary>
    /// The length of <see cref="Head"/> and <see cref="Tail"/> together. Why kept: sizing an answer then reads this object
    /// alone per item, not the headers of its two arrays as well (under load each was a cache line of its own).
    /// </summary>
    public int Length { get; }

    /// <summary>Fields 1–3 (signal, rule id, weight).</summary>
    public byte[] Head { get; }

    /// <summary>The item's own span (none for the items a rule set makes): what its entries show when they carry none.</summary>
    public Span? Span { get; }

    /// <summary>Fields 5–7 (explanation, source, interaction ids).</summary>
    public byte[] Tail { get; }
}
