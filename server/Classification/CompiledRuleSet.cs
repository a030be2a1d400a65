using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>
/// A validated rule set, ready to evaluate. Immutable and shared by every request that started
/// while it was live; publishing a new version builds a new instance.
/// </summary>
public sealed class CompiledRuleSet
{
    private readonly Dictionary<string, Rule[]> _rulesBySignal;
    private readonly Dictionary<string, IndustryPrior> _priors;
    private readonly IReadOnlyDictionary<string, string> _summaries;
    private readonly ProfileTable _profileTable;

    /// <summary>
    /// Per known signal what weighing a hit of it needs, found with one lookup per hit: its number (a slot in the
    /// per-call "seen" table), its definition, its group's number and its rules. Was four dictionary or set lookups
    /// per hit and a dictionary and a set built per classification.
    /// </summary>
    private readonly Dictionary<string, SignalWeighing> _weighing;

    /// <summary>How many groups the signals and open questions name (slots of the per-call "groups seen" table).</summary>
    private readonly int _groupCount;

    /// <summary>The group number of each of <see cref="OpenQuestions"/>, in order.</summary>
    private readonly int[] _questionGroups;

    /// <summary>The number of <see cref="DecisionThresholds.HybridRequiresSignal"/>; -1 when there is none, -2 when it names no known signal.</summary>
    private readonly int _hybridSignal;

    internal CompiledRuleSet(
        string version,
        string sourceYaml,
        IReadOnlyList<SignalDefinition> signals,
        IReadOnlyList<Rule> rules,
        IReadOnlyList<IndustryPrior> priors,
        IReadOnlyList<OpenQuestion> openQuestions,
        DecisionThresholds thresholds,
        ProfileMapping profile,
        SignalExtractor extractor,
        IReadOnlyDictionary<string, string> summaries)
    {
        Version = version;
        SourceYaml = sourceYaml;
        Signals = signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        Rules = rules;
        Priors = priors;
        OpenQuestions = openQuestions;
        Thresholds = thresholds;
        Profile = profile;
        Extractor = extractor;
        _summaries = summaries;
        _rulesBySignal = rules.GroupBy(r => r.Signal, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _priors = priors.ToDictionary(p => p.IndustryId, StringComparer.Ordinal);
        _profileTable = new ProfileTable(profile, Signals.Keys.ToList(), _rulesBySignal, thresholds.HybridRequiresSignal);

        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        int GroupNumber(string group) => groups.TryGetValue(group, out var number) ? number : groups[group] = groups.Count;
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var shared = new List<EvidenceItem>();
        _weighing = new Dictionary<string, SignalWeighing>(StringComparer.Ordinal);
        foreach (var definition in Signals.Values)
        {
            var signalRules = _rulesBySignal.GetValueOrDefault(definition.Id) ?? [];
            EvidenceItem[] profileItems = [.. signalRules.Select(rule => new EvidenceItem(definition.Id, rule.Id, rule.Weight, null, rule.Explanation, SignalHit.FromProfile, []))];
            EvidenceItem[] textItems = [.. signalRules.Select(rule => new EvidenceItem(definition.Id, rule.Id, rule.Weight, null, rule.Explanation, SignalHit.FromDescription, []))];
            shared.AddRange(profileItems);
            _weighing[definition.Id] = new SignalWeighing(
                _weighing.Count, definition, definition.Group is { } group ? GroupNumber(group) : -1, signalRules, profileItems, textItems, shared.Count,
                labels.TryGetValue(definition.Label, out var label) ? label : labels[definition.Label] = labels.Count);
            shared.AddRange(textItems);
        }

        _summaryTemplates = [.. Enum.GetValues<Kind>().Select(kind => SummaryTemplate.Parse(summaries.GetValueOrDefault(kind.Name()) ?? SummaryTemplate.Reasons))];
        _labelsHaveBraces = signals.Any(s => SummaryTemplate.HasBrace(s.Label));
        _labelsHaveSurrogates = signals.Any(s => SummaryTemplate.HasSurrogate(s.Label));

        _textWeighing = [.. extractor.HitSignals.Select(id => _weighing.GetValueOrDefault(id))];
        _profileWeighing = [.. ProfileTable.ConditionNames.Select(condition => profile.SignalFor(condition) is { } signal ? _weighing.GetValueOrDefault(signal) : null)];
        _priorEvidence = new Dictionary<string, PriorEvidence>(StringComparer.Ordinal);
        foreach (var p in priors)
        {
            var item = new EvidenceItem("industry:" + p.IndustryId, "industry." + p.IndustryId, p.Weight, null, p.Explanation, SignalHit.FromIndustry, []);
            _priorEvidence.Add(p.IndustryId, new PriorEvidence(item.Signal, item.RuleId, p, item, shared.Count));
            shared.Add(item);
        }

        _sharedEvidence = [.. shared];
        _questionGroups = [.. openQuestions.Select(q => GroupNumber(q.Group))];
        _groupCount = groups.Count;
        _hybridSignal = thresholds.HybridRequiresSignal is not { } hybrid ? -1 : _weighing.TryGetValue(hybrid, out var h) ? h.Number : -2;
    }

    /// <summary>What weighing a hit of one signal needs (see <see cref="_weighing"/>).</summary>
    /// <param name="ProfileEvidence">
    /// Per rule, the evidence item a profile's hit of this signal gives: the same values on every call (no span, no
    /// interactions), so made once and shared (evidence items are immutable) rather than allocated per call.
    /// </param>
    /// <param name="TextEvidence">
    /// Per rule, the evidence item a description's hit of this signal gives without its span: what a caller that shows no
    /// spans (ClassifyBuyer's basic view) is given, made once rather than per call.
    /// </param>
    /// <param name="TextEvidenceNumber">The number of <paramref name="TextEvidence"/>'s first item in <see cref="SharedEvidenceItems"/> (the others follow it).</param>
    /// <param name="LabelNumber">The number of the signal's label among this rule set's distinct labels (the summary names each label once).</param>
    private sealed record SignalWeighing(int Number, SignalDefinition Definition, int Group, Rule[] Rules, EvidenceItem[] ProfileEvidence, EvidenceItem[] TextEvidence, int TextEvidenceNumber, int LabelNumber)
    {
        /// <summary>The signal's label as a summary names it, its UTF-8 kept with it.</summary>
        public SummaryTemplate.Label Label { get; } = new(Definition.Label);
    }

    /// <summary>Per <see cref="Kind"/> (by its number), its summary template.</summary>
    private readonly SummaryTemplate[] _summaryTemplates;

    /// <summary>Whether a signal's label holds a brace, so that a summary cannot be written in one pass (see <see cref="SummaryTemplate.Write"/>).</summary>
    private readonly bool _labelsHaveBraces;

    /// <summary>Whether a signal's label holds a surrogate, so that a summary is made a string and encoded whole (see <see cref="SummaryTemplate.HasSurrogate"/>).</summary>
    private readonly bool _labelsHaveSurrogates;

    /// <summary>
    /// Per signal of <see cref="SignalExtractor.HitSignals"/>, what weighing its hits needs (null for a signal this rule set
    /// does not define): a description's hits come numbered, so they are weighed without hashing their names.
    /// </summary>
    private readonly SignalWeighing?[] _textWeighing;

    /// <summary>
    /// Per profile condition (<see cref="ProfileTable.ConditionNames"/>), what weighing its signal needs (null when the
    /// mapping names no signal or this rule set does not define it): a profile's conditions are weighed by number.
    /// </summary>
    private readonly SignalWeighing?[] _profileWeighing;

    /// <summary>Per industry with a prior, the prior and its evidence's signal and rule id, made once rather than concatenated per call.</summary>
    private readonly Dictionary<string, PriorEvidence> _priorEvidence;

    /// <param name="Item">The evidence item the prior gives: the same in every answer naming the industry, so made once.</param>
    /// <param name="Number">The number of <paramref name="Item"/> in <see cref="SharedEvidenceItems"/>.</param>
    private sealed record PriorEvidence(string Signal, string RuleId, IndustryPrior Prior, EvidenceItem Item, int Number);

    /// <summary>
    /// The evidence item each industry prior gives, without its source (signal, rule id, weight, explanation): the same in
    /// every answer naming it, so writers may encode it once per rule set. The item's own strings, so a writer may find
    /// what it kept for them by the strings' identity.
    /// </summary>
    public IEnumerable<(string Signal, string RuleId, double Weight, string Explanation)> PriorEvidenceItems =>
        _priorEvidence.Values.Select(p => (p.Item.Signal, p.Item.RuleId, p.Item.Weight, p.Item.Explanation));

    /// <summary>
    /// The evidence items made once per rule set and given to every answer naming them (a profile hit's, a description
    /// hit's without its span, an industry prior's), so a writer may key what it keeps for them by the items themselves,
    /// or by their number here (<see cref="DescriptionEvidence"/> names them by number).
    /// </summary>
    public IReadOnlyList<EvidenceItem> SharedEvidenceItems => _sharedEvidence;

    /// <summary>See <see cref="SharedEvidenceItems"/>: each signal's profile items, then its description items, then the priors' items.</summary>
    private readonly EvidenceItem[] _sharedEvidence;

    public string Version { get; }

    public string SourceYaml { get; }

    public IReadOnlyDictionary<string, SignalDefinition> Signals { get; }

    public IReadOnlyList<Rule> Rules { get; }

    public IReadOnlyList<IndustryPrior> Priors { get; }

    public IReadOnlyList<OpenQuestion> OpenQuestions { get; }

    public DecisionThresholds Thresholds { get; }

    public ProfileMapping Profile { get; }

    public SignalExtractor Extractor { get; }

    /// <summary>The summary template per kind name, as the rule set file gives them (what <see cref="SummaryTemplate"/>s are cut from).</summary>
    internal IReadOnlyDictionary<string, string> Summaries => _summaries;

    /// <summary>
    /// Weighs the signals and decides. Each signal counts once however often it is mentioned,
    /// so repeating a word cannot tip the balance. Deterministic: the same hits give the same result.
    /// </summary>
    public ClassificationResult Classify(IReadOnlyList<SignalHit> hits, KnowledgeTopic? industry, StrategyStage requestedStage = StrategyStage.Any) =>
        Weigh(new ListedHits(hits, _weighing), industry, requestedStage);

    /// <summary>
    /// The same result as <see cref="Classify"/> over <see cref="SignalExtractor.Extract"/> of the text, without a
    /// <see cref="SignalHit"/> (and a list of them) per hit: the hits stay numbered in a pooled buffer while they are
    /// weighed, and only those that become evidence get their span.
    /// </summary>
    /// <param name="withSpans">
    /// False when the caller shows no spans (ClassifyBuyer's basic view): the evidence items then carry none, and are the
    /// ones made once per rule set; everything else in the result is the same.
    /// </param>
    public ClassificationResult ClassifyText(string text, KnowledgeTopic? industry, StrategyStage requestedStage = StrategyStage.Any, bool withSpans = true)
    {
        var hits = new PatternIndex.MatchBuffer(text.Length);
        try
        {
            Extractor.ExtractNumbered(text, ref hits);
            return Weigh(new NumberedTextHits(text, hits.Items, _textWeighing, withSpans, _sharedEvidence), industry, requestedStage);
        }
        finally
        {
            hits.Dispose();
        }
    }

    /// <summary>
    /// The same result as <see cref="Classify"/> over <see cref="FactSignals.From"/> of the facts, without a name, a
    /// dictionary lookup and a <see cref="SignalHit"/> per condition: the conditions are numbered on the stack and each
    /// number finds its weighing in an array. Why: ClassifyBuyer(profile) runs this per call, and hashing the condition
    /// and signal names was about a sixth of the profile's classification (perf under the load tool).
    /// </summary>
    public ClassificationResult ClassifyProfile(BuyerFacts facts, KnowledgeTopic? industry, StrategyStage requestedStage = StrategyStage.Any)
    {
        Span<int> conditions = stackalloc int[ProfileTable.MostConditions];
        var count = ProfileTable.Conditions(facts, Profile, conditions);
        return Weigh(new NumberedProfileHits(conditions[..count], _profileWeighing), industry, requestedStage);
    }

    /// <summary>The hits one classification weighs, read by index; a struct per kind of source, so the weighing is compiled for each.</summary>
    private interface IHits
    {
        int Count { get; }

        /// <summary>What weighing hit <paramref name="i"/> needs, or null when its signal is not one of this rule set's.</summary>
        SignalWeighing? Weighing(int i);

        /// <summary>Where hit <paramref name="i"/>'s span starts, <see cref="int.MaxValue"/> without one (it orders evidence of equal weight).</summary>
        int Start(int i);

        /// <summary>Whether hit <paramref name="i"/>'s source is <see cref="SignalHit.FromIndustry"/> (its evidence is no reason in the summary).</summary>
        bool FromIndustry(int i);

        IReadOnlyList<string> InteractionIds(int i);

        /// <summary>
        /// The evidence item rule <paramref name="rule"/> of <paramref name="weighing"/> (hit <paramref name="i"/>'s) gives,
        /// with <paramref name="interactionIds"/> instead of the hit's when later mentions added some.
        /// </summary>
        EvidenceItem Evidence(int i, SignalWeighing weighing, int rule, IReadOnlyList<string>? interactionIds);

        /// <summary>
        /// The evidence of the weighed items, strongest first (<paramref name="ordered"/>); the item without a weighing is
        /// the industry prior's (<paramref name="prior"/>).
        /// </summary>
        IReadOnlyList<EvidenceItem> Evidence(ReadOnlySpan<Pending> ordered, PriorEvidence? prior);
    }

    /// <summary>An evidence item object per weighed item (<see cref="IHits.Evidence(int, SignalWeighing, int, IReadOnlyList{string}?)"/>; the prior's own item for the prior).</summary>
    private static EvidenceItem[] EvidenceItems<THits>(in THits hits, ReadOnlySpan<Pending> ordered, PriorEvidence? prior)
        where THits : IHits, allows ref struct
    {
        if (ordered.Length == 0)
        {
            return [];
        }

        var evidence = new EvidenceItem[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            ref readonly var item = ref ordered[i];
            evidence[i] = item.Weighing is null ? prior!.Item : hits.Evidence(item.Hit, item.Weighing, item.Rule, item.InteractionIds);
        }

        return evidence;
    }

    /// <summary>Hits as objects (a profile's, a history's, or a description's through <see cref="SignalExtractor.Extract"/>).</summary>
    private readonly struct ListedHits(IReadOnlyList<SignalHit> hits, Dictionary<string, SignalWeighing> weighing) : IHits
    {
        public int Count => hits.Count;

        public SignalWeighing? Weighing(int i) => weighing.GetValueOrDefault(hits[i].Signal);

        public int Start(int i) => hits[i].Span?.Start ?? int.MaxValue;

        public bool FromIndustry(int i) => hits[i].Source == SignalHit.FromIndustry;

        public IReadOnlyList<string> InteractionIds(int i) => hits[i].InteractionIds;

        public EvidenceItem Evidence(int i, SignalWeighing weighing, int rule, IReadOnlyList<string>? interactionIds)
        {
            var (hit, r) = (hits[i], weighing.Rules[rule]);
            return new EvidenceItem(hit.Signal, r.Id, r.Weight, hit.Span, r.Explanation, hit.Source, interactionIds ?? hit.InteractionIds);
        }

        public IReadOnlyList<EvidenceItem> Evidence(ReadOnlySpan<Pending> ordered, PriorEvidence? prior) => EvidenceItems(in this, ordered, prior);
    }

    /// <summary>A description's hits from <see cref="SignalExtractor.ExtractNumbered"/>: (signal number, start, length).</summary>
    /// <param name="withSpans">
    /// False when the caller shows no spans (ClassifyBuyer's basic view): each rule's evidence item is then the one made once
    /// per rule set without a span (<see cref="SignalWeighing.TextEvidence"/>) instead of one allocated per hit per call.
    /// True: the evidence is a <see cref="DescriptionEvidence"/>, those same items by number with each hit's span beside
    /// them, in one array of structs rather than an object per item per call.
    /// </param>
    /// <param name="shared">The rule set's <see cref="SharedEvidenceItems"/>, which a <see cref="DescriptionEvidence"/> numbers.</param>
    private readonly ref struct NumberedTextHits(string text, ReadOnlySpan<(int Signal, int Start, int Length)> hits, SignalWeighing?[] weighing, bool withSpans, EvidenceItem[] shared) : IHits
    {
        private readonly ReadOnlySpan<(int Signal, int Start, int Length)> _hits = hits;

        public int Count => _hits.Length;

        public SignalWeighing? Weighing(int i) => weighing[_hits[i].Signal];

        public int Start(int i) => _hits[i].Start;

        public bool FromIndustry(int i) => false;

        public IReadOnlyList<string> InteractionIds(int i) => [];

        // Only called without spans (see the list's Evidence below), for hits with a weighing, whose definition's id is
        // the hit's signal; a description's hits name no interactions, so none were added.
        public EvidenceItem Evidence(int i, SignalWeighing weighing, int rule, IReadOnlyList<string>? interactionIds) => weighing.TextEvidence[rule];

        public IReadOnlyList<EvidenceItem> Evidence(ReadOnlySpan<Pending> ordered, PriorEvidence? prior)
        {
            if (!withSpans || ordered.Length == 0)
            {
                return EvidenceItems(in this, ordered, prior);
            }

            // Each item is its rule's shared item (SignalWeighing.TextEvidence, numbered from TextEvidenceNumber) with the
            // hit's span: the same values the item made per hit had (the definition's id, the rule's id, weight and
            // explanation, the description as source, no interactions).
            var entries = new DescribedItem[ordered.Length];
            for (var i = 0; i < ordered.Length; i++)
            {
                ref readonly var item = ref ordered[i];
                if (item.Weighing is not { } weighing)
                {
                    entries[i] = new DescribedItem(prior!.Number, DescribedItem.NoSpan, DescribedItem.NoSpan);
                    continue;
                }

                var (start, length) = (_hits[item.Hit].Start, _hits[item.Hit].Length);
                entries[i] = new DescribedItem(weighing.TextEvidenceNumber + item.Rule, start, start + length);
            }

            return new DescriptionEvidence(shared, text, entries);
        }
    }

    /// <summary>A profile's conditions by number (<see cref="ProfileTable.Conditions"/>), as <see cref="SignalHit.InProfile"/> hits.</summary>
    private readonly ref struct NumberedProfileHits(ReadOnlySpan<int> conditions, SignalWeighing?[] weighing) : IHits
    {
        private readonly ReadOnlySpan<int> _conditions = conditions;

        public int Count => _conditions.Length;

        public SignalWeighing? Weighing(int i) => weighing[_conditions[i]];

        public int Start(int i) => int.MaxValue;

        public bool FromIndustry(int i) => false;

        public IReadOnlyList<string> InteractionIds(int i) => [];

        // A profile's items are the same on every call (no span, no interactions): made once per rule set.
        public EvidenceItem Evidence(int i, SignalWeighing weighing, int rule, IReadOnlyList<string>? interactionIds) => weighing.ProfileEvidence[rule];

        public IReadOnlyList<EvidenceItem> Evidence(ReadOnlySpan<Pending> ordered, PriorEvidence? prior) => EvidenceItems(in this, ordered, prior);
    }

    /// <summary>
    /// One evidence item while a classification is weighed, before it is made or taken from those made once: what summing,
    /// ordering and the summary's labels need, kept in a buffer on the stack rather than as a list of objects.
    /// </summary>
    /// <param name="Weighing">The signal's weighing; null for the industry prior.</param>
    /// <param name="Hit">The hit it comes from (-1 for the prior).</param>
    /// <param name="Rule">The rule of <paramref name="Weighing"/> it comes from (-1 for the prior).</param>
    /// <param name="Start">Its span's start, <see cref="int.MaxValue"/> without a span.</param>
    /// <param name="FromIndustry">Its source is <see cref="SignalHit.FromIndustry"/>: it gives no reason to the summary.</param>
    private record struct Pending(SignalWeighing? Weighing, int Hit, int Rule, double Weight, int Start, bool FromIndustry)
    {
        /// <summary>The interactions later mentions of the signal added (with the hit's own), or null when none did.</summary>
        public IReadOnlyList<string>? InteractionIds { get; set; }
    }

    /// <summary>Room on the stack for the evidence items of an ordinary description (a handful; one to two dozen at most).</summary>
    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct PendingBuffer
    {
        private Pending _first;
    }

    /// <summary>The pending items: in <see cref="PendingBuffer"/> until they outgrow it, then in a pooled array.</summary>
    private ref struct PendingList
    {
        private Span<Pending> _items;
        private Pending[]? _rented;

        public PendingList(Span<Pending> initial)
        {
            _items = initial;
        }

        public int Count { get; private set; }

        public readonly Span<Pending> Items => _items[..Count];

        public void Add(Pending item)
        {
            if (Count == _items.Length)
            {
                var larger = System.Buffers.ArrayPool<Pending>.Shared.Rent(_items.Length * 2);
                _items.CopyTo(larger);
                Dispose();
                _rented = larger;
                _items = larger;
            }

            _items[Count++] = item;
        }

        /// <summary>Returns the pooled array, if any (cleared: its items hold the rule set's objects).</summary>
        public void Dispose()
        {
            if (_rented is { } rented)
            {
                _rented = null;
                System.Buffers.ArrayPool<Pending>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// Orders the evidence strongest first, then by where its span starts (none last): exactly the order List.Sort gave the
    /// evidence items with that comparison, ties included. List.Sort (an introsort) is not stable, so its order of ties is
    /// its algorithm's: for up to 16 items it sorts 2 and 3 items by compare-and-swap and more by insertion, which is
    /// done here the same way without a delegate call per comparison; beyond 16 the same library sort runs.
    /// </summary>
    private static class EvidenceOrder
    {
        public static void Sort(Span<Pending> items)
        {
            switch (items.Length)
            {
                case <= 1:
                    return;
                case 2:
                    SwapIfGreater(items, 0, 1);
                    return;
                case 3:
                    SwapIfGreater(items, 0, 1);
                    SwapIfGreater(items, 0, 2);
                    SwapIfGreater(items, 1, 2);
                    return;
                case <= 16:
                    InsertionSort(items);
                    return;
                default:
                    items.Sort(static (a, b) => Compare(in a, in b));
                    return;
            }
        }

        public static int Compare(in Pending a, in Pending b)
        {
            var byWeight = Math.Abs(b.Weight).CompareTo(Math.Abs(a.Weight));
            return byWeight != 0 ? byWeight : a.Start.CompareTo(b.Start);
        }

        private static void SwapIfGreater(Span<Pending> items, int i, int j)
        {
            if (Compare(in items[i], in items[j]) > 0)
            {
                (items[i], items[j]) = (items[j], items[i]);
            }
        }

        private static void InsertionSort(Span<Pending> items)
        {
            for (var i = 0; i < items.Length - 1; i++)
            {
                var t = items[i + 1];
                var j = i;
                while (j >= 0 && Compare(in t, in items[j]) < 0)
                {
                    items[j + 1] = items[j];
                    j--;
                }

                items[j + 1] = t;
            }
        }
    }

    private ClassificationResult Weigh<THits>(THits hits, KnowledgeTopic? industry, StrategyStage requestedStage)
        where THits : IHits, allows ref struct
    {
        var inline = default(PendingBuffer);
        var pending = new PendingList(inline);
        try
        {
            return Weigh(hits, industry, requestedStage, ref pending);
        }
        finally
        {
            pending.Dispose();
        }
    }

    private ClassificationResult Weigh<THits>(THits hits, KnowledgeTopic? industry, StrategyStage requestedStage, ref PendingList pending)
        where THits : IHits, allows ref struct
    {
        var stage = requestedStage;
        var stageFromSignals = StrategyStage.Any;

        // Per known signal, 1 + the index of its first evidence item once it has been seen (0: not yet); per group, whether
        // a signal of it was seen. Small tables on the stack: a classification sees a few signals of a few dozen.
        var seen = _weighing.Count <= 512 ? stackalloc int[_weighing.Count] : new int[_weighing.Count];
        var groups = _groupCount <= 512 ? stackalloc bool[_groupCount] : new bool[_groupCount];
        seen.Clear();
        groups.Clear();

        for (var h = 0; h < hits.Count; h++)
        {
            if (hits.Weighing(h) is not { } weighing)
            {
                continue;
            }

            var definition = weighing.Definition;
            if (weighing.Group >= 0)
            {
                groups[weighing.Group] = true;
            }

            if (definition.Stage is { } signalStage && StagePriority(signalStage) > StagePriority(stageFromSignals))
            {
                stageFromSignals = signalStage;
            }

            if (seen[weighing.Number] > 0)
            {
                // Later mentions of the same signal add their interactions, never weight. A signal's items are
                // consecutive, and items of the same weighing are those of the same signal.
                var more = hits.InteractionIds(h);
                if (more.Count > 0)
                {
                    var items = pending.Items;
                    for (var i = seen[weighing.Number] - 1; i < items.Length && items[i].Weighing == weighing; i++)
                    {
                        var before = items[i].InteractionIds ?? hits.InteractionIds(items[i].Hit);
                        items[i].InteractionIds = [.. before.Concat(more).Distinct().Take(20)];
                    }
                }

                continue;
            }

            seen[weighing.Number] = pending.Count + 1;
            if (weighing.Rules.Length > 0)
            {
                var (start, fromIndustry) = (hits.Start(h), hits.FromIndustry(h));
                for (var r = 0; r < weighing.Rules.Length; r++)
                {
                    pending.Add(new Pending(weighing, h, r, weighing.Rules[r].Weight, start, fromIndustry));
                }
            }
        }

        double clientWeight = 0, customerWeight = 0;
        foreach (ref readonly var item in pending.Items)
        {
            if (item.Weight > 0)
            {
                clientWeight += item.Weight;
            }
            else
            {
                customerWeight -= item.Weight;
            }
        }

        // The industry prior tilts a close call; it never counts as evidence of its own.
        double prior = 0;
        PriorEvidence? industryPrior = null;
        if (industry is not null && _priorEvidence.TryGetValue(industry.Id, out industryPrior))
        {
            prior = industryPrior.Prior.Weight;
            pending.Add(new Pending(null, -1, -1, prior, int.MaxValue, FromIndustry: true));
        }

        var (kind, confidence, score) = Decide(clientWeight, customerWeight, prior, _hybridSignal == -1 || (_hybridSignal >= 0 && seen[_hybridSignal] > 0));
        var t = Thresholds;

        if (stage == StrategyStage.Any)
        {
            stage = stageFromSignals;
        }

        var ordered = pending.Items;
        EvidenceOrder.Sort(ordered);
        var evidence = hits.Evidence(ordered, industryPrior);

        // Up to four questions about the groups nothing was said about.
        IReadOnlyList<string> questions = [];
        if (kind == Kind.Undetermined || confidence < t.UnsureConfidence)
        {
            questions = OpenQuestionsFor(groups);
        }

        // The summary kept as what fills its template when the answer can write it from that in UTF-8 (nearly always), so
        // it is made a string only if a caller reads it; otherwise made now, as before.
        return SummaryFill(kind, ordered, industry) is { } fill
            ? new ClassificationResult(
                kind, confidence, Math.Round(score, 3), Math.Round(clientWeight, 3), Math.Round(customerWeight, 3),
                evidence, questions, fill, Version, industry, stage)
            : new ClassificationResult(
                kind, confidence, Math.Round(score, 3), Math.Round(clientWeight, 3), Math.Round(customerWeight, 3),
                evidence, questions, Summarise(kind, ordered, evidence, industry), Version, industry, stage);
    }

    /// <summary>
    /// What fills the kind's summary template for this evidence (<paramref name="ordered"/>, strongest first) and industry,
    /// when the summary can be written from it both as a string (<see cref="SummaryTemplate.Write"/>) and straight in UTF-8
    /// (<see cref="SummaryTemplate.WriteUtf8"/>) with the same text; null when it cannot (see <see cref="Summarise"/>).
    /// </summary>
    private SummaryTemplate.Fill? SummaryFill(Kind kind, ReadOnlySpan<Pending> ordered, KnowledgeTopic? industry)
    {
        var template = _summaryTemplates[(int)kind];
        var uses = template.Uses;
        var title = (uses & SummaryTemplate.Placeholders.Industry) != 0 ? industry?.Title ?? SummaryTemplate.NoIndustry : "";
        if (template.Parts is not { } parts || !template.WritesUtf8 || _labelsHaveBraces || _labelsHaveSurrogates
            || SummaryTemplate.HasBrace(title) || SummaryTemplate.HasSurrogate(title))
        {
            return null;
        }

        return Fill(parts, uses, kind, ordered, title);
    }

    private static SummaryTemplate.Fill Fill(SummaryTemplate.Part[] parts, SummaryTemplate.Placeholders uses, Kind kind, ReadOnlySpan<Pending> ordered, string title) => new(
        parts,
        (uses & SummaryTemplate.Placeholders.Reasons) != 0 ? Labels(ordered, kind switch { Kind.Client => 1, Kind.Customer => -1, _ => 0 }) : default,
        (uses & SummaryTemplate.Placeholders.ClientReasons) != 0 ? Labels(ordered, 1) : default,
        (uses & SummaryTemplate.Placeholders.CustomerReasons) != 0 ? Labels(ordered, -1) : default,
        title);

    /// <summary>The first four of <see cref="OpenQuestions"/> about groups nothing was said about (<paramref name="groups"/>).</summary>
    private string[] OpenQuestionsFor(ReadOnlySpan<bool> groups)
    {
        var count = 0;
        for (var i = 0; i < OpenQuestions.Count && count < 4; i++)
        {
            count += groups[_questionGroups[i]] ? 0 : 1;
        }

        if (count == 0)
        {
            return [];
        }

        var questions = new string[count];
        for (int i = 0, q = 0; q < count; i++)
        {
            if (!groups[_questionGroups[i]])
            {
                questions[q++] = OpenQuestions[i].Question;
            }
        }

        return questions;
    }

    /// <summary>
    /// The decision alone for typed facts, without evidence or text: a table lookup per profile
    /// condition and a sum. Gives the same kind, confidence and score as <see cref="Classify"/> over
    /// <see cref="FactSignals.From"/>; it is what a caller scoring many profiles should use.
    /// </summary>
    public ProfileDecision Decide(BuyerFacts facts, KnowledgeTopic? industry = null)
    {
        var (client, customer, hybridSignal) = _profileTable.Weigh(facts);
        var prior = industry is not null && _priors.TryGetValue(industry.Id, out var industryPrior) ? industryPrior.Weight : 0;
        var (kind, confidence, score) = Decide(client, customer, prior, Thresholds.HybridRequiresSignal is null || hybridSignal);
        return new ProfileDecision(kind, confidence, Math.Round(score, 3));
    }

    /// <summary>Turns the two sides' weights and the industry prior into a kind, a confidence and a score.</summary>
    private (Kind Kind, double Confidence, double Score) Decide(double clientWeight, double customerWeight, double prior, bool hybridSignalPresent)
    {
        var mass = clientWeight + customerWeight;
        var score = clientWeight - customerWeight + prior;
        var t = Thresholds;
        Kind kind;
        double confidence;
        var minority = Math.Min(clientWeight, customerWeight);
        var majority = Math.Max(clientWeight, customerWeight);
        if (mass < t.MinEvidence)
        {
            kind = Kind.Undetermined;
            confidence = Math.Round(0.4 * mass / t.MinEvidence, 2);
        }
        else if (minority >= t.HybridMinSide && minority / majority >= t.HybridBalance && hybridSignalPresent)
        {
            kind = Kind.Hybrid;
            confidence = Math.Round(Math.Min(0.95, 0.5 + (0.45 * (minority / majority) * Saturate(minority))), 2);
        }
        else if (Math.Abs(score) < t.DecisionMargin)
        {
            kind = Kind.Undetermined;
            confidence = Math.Round(0.3 + (0.1 * Math.Abs(score) / t.DecisionMargin), 2);
        }
        else
        {
            kind = score > 0 ? Kind.Client : Kind.Customer;
            var strength = 1 - Math.Exp(-Math.Abs(score) / t.ConfidenceScale);
            var agreement = majority > 0 ? 1 - (0.5 * minority / majority) : 1;
            confidence = Math.Round(Math.Clamp(0.5 + (0.49 * strength * agreement), 0.5, 0.99), 2);
        }

        return (kind, confidence, score);
    }

    private static double Saturate(double weight) => 1 - Math.Exp(-weight / 3);

    private static int StagePriority(StrategyStage stage) => stage switch
    {
        StrategyStage.Lapsed => 4,
        StrategyStage.AtRisk => 3,
        StrategyStage.New => 2,
        StrategyStage.Active => 1,
        _ => 0,
    };

    /// <summary>
    /// The kind's summary template filled with the labels of the evidence (<paramref name="ordered"/>, strongest first) and
    /// the industry, in one pass (<see cref="SummaryTemplate.Write"/>); the placeholder-by-placeholder replacement
    /// (<see cref="SummariseByReplacing"/>) when a template, label or title holds a brace the one pass cannot treat alike.
    /// </summary>
    private string Summarise(Kind kind, ReadOnlySpan<Pending> ordered, IReadOnlyList<EvidenceItem> evidence, KnowledgeTopic? industry)
    {
        var template = _summaryTemplates[(int)kind];
        var uses = template.Uses;
        var title = (uses & SummaryTemplate.Placeholders.Industry) != 0 ? industry?.Title ?? SummaryTemplate.NoIndustry : "";
        if (template.Parts is not { } parts || _labelsHaveBraces || SummaryTemplate.HasBrace(title))
        {
            return SummariseByReplacing(template.Text, kind, evidence, industry);
        }

        return SummaryTemplate.Write(Fill(parts, uses, kind, ordered, title));
    }

    /// <summary>
    /// The first three distinct labels of the evidence that fits, strongest first (the evidence is sorted).
    /// <paramref name="side"/>: 1 the client side, -1 the customer side, 0 both. Labels are told apart by number.
    /// </summary>
    private static SummaryTemplate.Labels Labels(ReadOnlySpan<Pending> ordered, int side)
    {
        SignalWeighing? first = null, second = null, third = null;
        foreach (ref readonly var item in ordered)
        {
            if (item.Weighing is not { } weighing || item.FromIndustry || (side > 0 && item.Weight <= 0) || (side < 0 && item.Weight >= 0))
            {
                continue;
            }

            if (weighing.LabelNumber == first?.LabelNumber || weighing.LabelNumber == second?.LabelNumber)
            {
                continue;
            }

            if (first is null)
            {
                first = weighing;
            }
            else if (second is null)
            {
                second = weighing;
            }
            else
            {
                third = weighing;
                break;
            }
        }

        return new SummaryTemplate.Labels(first?.Label, second?.Label, third?.Label);
    }

    /// <summary>The summary as it was written before <see cref="SummaryTemplate"/>: one placeholder after another.</summary>
    private string SummariseByReplacing(string template, Kind kind, IReadOnlyList<EvidenceItem> evidence, KnowledgeTopic? industry)
    {
        var summary = template;
        if (summary.Contains(SummaryTemplate.Reasons, StringComparison.Ordinal))
        {
            var reasons = LabelsByReplacing(evidence, kind switch { Kind.Client => 1, Kind.Customer => -1, _ => 0 });
            summary = summary.Replace(SummaryTemplate.Reasons, reasons.Length > 0 ? reasons : SummaryTemplate.NoReasons, StringComparison.Ordinal);
        }

        if (summary.Contains(SummaryTemplate.ClientReasons, StringComparison.Ordinal))
        {
            summary = summary.Replace(SummaryTemplate.ClientReasons, LabelsByReplacing(evidence, 1), StringComparison.Ordinal);
        }

        if (summary.Contains(SummaryTemplate.CustomerReasons, StringComparison.Ordinal))
        {
            summary = summary.Replace(SummaryTemplate.CustomerReasons, LabelsByReplacing(evidence, -1), StringComparison.Ordinal);
        }

        return summary.Contains(SummaryTemplate.Industry, StringComparison.Ordinal)
            ? summary.Replace(SummaryTemplate.Industry, industry?.Title ?? SummaryTemplate.NoIndustry, StringComparison.Ordinal)
            : summary;
    }

    /// <summary>
    /// The first three distinct labels of the evidence that fits, strongest first (the evidence is sorted),
    /// joined as "a, b and c". <paramref name="side"/>: 1 the client side, -1 the customer side, 0 both.
    /// </summary>
    private string LabelsByReplacing(IReadOnlyList<EvidenceItem> evidence, int side)
    {
        string? first = null, second = null, third = null;
        foreach (var item in evidence)
        {
            if (item.Source == SignalHit.FromIndustry || (side > 0 && item.Weight <= 0) || (side < 0 && item.Weight >= 0))
            {
                continue;
            }

            var label = Signals[item.Signal].Label;
            if (label == first || label == second)
            {
                continue;
            }

            if (first is null)
            {
                first = label;
            }
            else if (second is null)
            {
                second = label;
            }
            else
            {
                third = label;
                break;
            }
        }

        return third is not null ? string.Concat(first, ", ", second, " and ", third)
            : second is not null ? string.Concat(first, " and ", second)
            : first ?? "";
    }
}
