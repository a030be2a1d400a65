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
        _weighing = new Dictionary<string, SignalWeighing>(StringComparer.Ordinal);
        foreach (var definition in Signals.Values)
        {
            var signalRules = _rulesBySignal.GetValueOrDefault(definition.Id) ?? [];
            _weighing[definition.Id] = new SignalWeighing(
                _weighing.Count, definition, definition.Group is { } group ? GroupNumber(group) : -1, signalRules,
                [.. signalRules.Select(rule => new EvidenceItem(definition.Id, rule.Id, rule.Weight, null, rule.Explanation, SignalHit.FromProfile, []))]);
        }

        _textWeighing = [.. extractor.HitSignals.Select(id => _weighing.GetValueOrDefault(id))];
        _profileWeighing = [.. ProfileTable.ConditionNames.Select(condition => profile.SignalFor(condition) is { } signal ? _weighing.GetValueOrDefault(signal) : null)];
        _priorEvidence = priors.ToDictionary(
            p => p.IndustryId,
            p => new PriorEvidence("industry:" + p.IndustryId, "industry." + p.IndustryId, p),
            StringComparer.Ordinal);
        _questionGroups = [.. openQuestions.Select(q => GroupNumber(q.Group))];
        _groupCount = groups.Count;
        _hybridSignal = thresholds.HybridRequiresSignal is not { } hybrid ? -1 : _weighing.TryGetValue(hybrid, out var h) ? h.Number : -2;
    }

    /// <summary>What weighing a hit of one signal needs (see <see cref="_weighing"/>).</summary>
    /// <param name="ProfileEvidence">
    /// Per rule, the evidence item a profile's hit of this signal gives: the same values on every call (no span, no
    /// interactions), so made once and shared (evidence items are immutable) rather than allocated per call.
    /// </param>
    private sealed record SignalWeighing(int Number, SignalDefinition Definition, int Group, Rule[] Rules, EvidenceItem[] ProfileEvidence);

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

    private sealed record PriorEvidence(string Signal, string RuleId, IndustryPrior Prior);

    /// <summary>
    /// The evidence item each industry prior gives, without its source (signal, rule id, weight, explanation): the same in
    /// every answer naming it, so writers may encode it once per rule set.
    /// </summary>
    public IEnumerable<(string Signal, string RuleId, double Weight, string Explanation)> PriorEvidenceItems =>
        _priorEvidence.Values.Select(p => (p.Signal, p.RuleId, p.Prior.Weight, p.Prior.Explanation));

    public string Version { get; }

    public string SourceYaml { get; }

    public IReadOnlyDictionary<string, SignalDefinition> Signals { get; }

    public IReadOnlyList<Rule> Rules { get; }

    public IReadOnlyList<IndustryPrior> Priors { get; }

    public IReadOnlyList<OpenQuestion> OpenQuestions { get; }

    public DecisionThresholds Thresholds { get; }

    public ProfileMapping Profile { get; }

    public SignalExtractor Extractor { get; }

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
    public ClassificationResult ClassifyText(string text, KnowledgeTopic? industry, StrategyStage requestedStage = StrategyStage.Any)
    {
        var hits = new PatternIndex.MatchBuffer(text.Length);
        try
        {
            Extractor.ExtractNumbered(text, ref hits);
            return Weigh(new NumberedTextHits(text, hits.Items, _textWeighing), industry, requestedStage);
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

        /// <summary>Hit <paramref name="i"/>'s signal name, as the evidence names it.</summary>
        string Signal(int i);

        Span? Span(int i);

        string Source(int i);

        IReadOnlyList<string> InteractionIds(int i);

        /// <summary>The evidence items hit <paramref name="i"/> gives when they are the same on every call (see <see cref="SignalWeighing.ProfileEvidence"/>), else null.</summary>
        EvidenceItem[]? SharedEvidence(int i);
    }

    /// <summary>Hits as objects (a profile's, a history's, or a description's through <see cref="SignalExtractor.Extract"/>).</summary>
    private readonly struct ListedHits(IReadOnlyList<SignalHit> hits, Dictionary<string, SignalWeighing> weighing) : IHits
    {
        public int Count => hits.Count;

        public SignalWeighing? Weighing(int i) => weighing.GetValueOrDefault(hits[i].Signal);

        public string Signal(int i) => hits[i].Signal;

        public Span? Span(int i) => hits[i].Span;

        public string Source(int i) => hits[i].Source;

        public IReadOnlyList<string> InteractionIds(int i) => hits[i].InteractionIds;

        public EvidenceItem[]? SharedEvidence(int i) => null;
    }

    /// <summary>A description's hits from <see cref="SignalExtractor.ExtractNumbered"/>: (signal number, start, length).</summary>
    private readonly ref struct NumberedTextHits(string text, ReadOnlySpan<(int Signal, int Start, int Length)> hits, SignalWeighing?[] weighing) : IHits
    {
        private readonly ReadOnlySpan<(int Signal, int Start, int Length)> _hits = hits;

        public int Count => _hits.Length;

        public SignalWeighing? Weighing(int i) => weighing[_hits[i].Signal];

        // Only called for hits with a weighing (Weigh skips the rest), whose definition's id is the hit's signal.
        public string Signal(int i) => weighing[_hits[i].Signal]!.Definition.Id;

        public Span? Span(int i) => Classification.Span.In(text, _hits[i].Start, _hits[i].Start + _hits[i].Length);

        public string Source(int i) => SignalHit.FromDescription;

        public IReadOnlyList<string> InteractionIds(int i) => [];

        public EvidenceItem[]? SharedEvidence(int i) => null;
    }

    /// <summary>A profile's conditions by number (<see cref="ProfileTable.Conditions"/>), as <see cref="SignalHit.InProfile"/> hits.</summary>
    private readonly ref struct NumberedProfileHits(ReadOnlySpan<int> conditions, SignalWeighing?[] weighing) : IHits
    {
        private readonly ReadOnlySpan<int> _conditions = conditions;

        public int Count => _conditions.Length;

        public SignalWeighing? Weighing(int i) => weighing[_conditions[i]];

        // Only called for conditions with a weighing (Weigh skips the rest), whose definition's id is the mapped signal.
        public string Signal(int i) => weighing[_conditions[i]]!.Definition.Id;

        public Span? Span(int i) => null;

        public string Source(int i) => SignalHit.FromProfile;

        public IReadOnlyList<string> InteractionIds(int i) => [];

        public EvidenceItem[]? SharedEvidence(int i) => weighing[_conditions[i]]!.ProfileEvidence;
    }

    private ClassificationResult Weigh<THits>(THits hits, KnowledgeTopic? industry, StrategyStage requestedStage)
        where THits : IHits, allows ref struct
    {
        var evidence = new List<EvidenceItem>(hits.Count + 2);
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
                // Later mentions of the same signal add their interactions, never weight.
                var more = hits.InteractionIds(h);
                if (more.Count > 0)
                {
                    var signal = hits.Signal(h);
                    for (var i = seen[weighing.Number] - 1; i < evidence.Count && evidence[i].Signal == signal; i++)
                    {
                        evidence[i] = evidence[i] with { InteractionIds = [.. evidence[i].InteractionIds.Concat(more).Distinct().Take(20)] };
                    }
                }

                continue;
            }

            seen[weighing.Number] = evidence.Count + 1;
            if (hits.SharedEvidence(h) is { } shared)
            {
                evidence.AddRange(shared);
            }
            else if (weighing.Rules.Length > 0)
            {
                var (signal, span, source, interactionIds) = (hits.Signal(h), hits.Span(h), hits.Source(h), hits.InteractionIds(h));
                foreach (var rule in weighing.Rules)
                {
                    evidence.Add(new EvidenceItem(signal, rule.Id, rule.Weight, span, rule.Explanation, source, interactionIds));
                }
            }
        }

        double clientWeight = 0, customerWeight = 0;
        foreach (var item in evidence)
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
        if (industry is not null && _priorEvidence.TryGetValue(industry.Id, out var industryPrior))
        {
            prior = industryPrior.Prior.Weight;
            evidence.Add(new EvidenceItem(
                industryPrior.Signal, industryPrior.RuleId, prior, null, industryPrior.Prior.Explanation, SignalHit.FromIndustry, []));
        }

        var (kind, confidence, score) = Decide(clientWeight, customerWeight, prior, _hybridSignal == -1 || (_hybridSignal >= 0 && seen[_hybridSignal] > 0));
        var t = Thresholds;

        if (stage == StrategyStage.Any)
        {
            stage = stageFromSignals;
        }

        evidence.Sort(static (a, b) =>
        {
            var byWeight = Math.Abs(b.Weight).CompareTo(Math.Abs(a.Weight));
            return byWeight != 0 ? byWeight : (a.Span?.Start ?? int.MaxValue).CompareTo(b.Span?.Start ?? int.MaxValue);
        });

        // Up to four questions about the groups nothing was said about.
        var questions = new List<string>();
        if (kind == Kind.Undetermined || confidence < t.UnsureConfidence)
        {
            for (var i = 0; i < OpenQuestions.Count && questions.Count < 4; i++)
            {
                if (!groups[_questionGroups[i]])
                {
                    questions.Add(OpenQuestions[i].Question);
                }
            }
        }

        return new ClassificationResult(
            kind, confidence, Math.Round(score, 3), Math.Round(clientWeight, 3), Math.Round(customerWeight, 3),
            evidence, questions, Summarise(kind, evidence, industry), Version, industry, stage);
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

    private string Summarise(Kind kind, List<EvidenceItem> evidence, KnowledgeTopic? industry)
    {
        var template = _summaries.GetValueOrDefault(kind.Name()) ?? "{reasons}";

        // Each placeholder costs a pass over the evidence: fill only those the template uses. Every
        // classification runs this, so it is written without closures, LINQ or a list per placeholder.
        var summary = template;
        if (summary.Contains("{reasons}", StringComparison.Ordinal))
        {
            var reasons = Labels(evidence, kind switch { Kind.Client => 1, Kind.Customer => -1, _ => 0 });
            summary = summary.Replace("{reasons}", reasons.Length > 0 ? reasons : "nothing specific", StringComparison.Ordinal);
        }

        if (summary.Contains("{client_reasons}", StringComparison.Ordinal))
        {
            summary = summary.Replace("{client_reasons}", Labels(evidence, 1), StringComparison.Ordinal);
        }

        if (summary.Contains("{customer_reasons}", StringComparison.Ordinal))
        {
            summary = summary.Replace("{customer_reasons}", Labels(evidence, -1), StringComparison.Ordinal);
        }

        return summary.Contains("{industry}", StringComparison.Ordinal)
            ? summary.Replace("{industry}", industry?.Title ?? "the industry", StringComparison.Ordinal)
            : summary;
    }

    /// <summary>
    /// The first three distinct labels of the evidence that fits, strongest first (the evidence is sorted),
    /// joined as "a, b and c". <paramref name="side"/>: 1 the client side, -1 the customer side, 0 both.
    /// </summary>
    private string Labels(List<EvidenceItem> evidence, int side)
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
