using Advisor.Server.Classification;

namespace Advisor.Server.Knowledge;

public enum TopicKind
{
    Definition,
    Dimension,
    Industry,
    Concept,
}

public enum StrategyStage
{
    Any,
    New,
    Active,
    AtRisk,
    Lapsed,
}

/// <summary>One piece of knowledge, with the titles of the articles it came from.</summary>
public sealed record KnowledgeTopic(
    string Id,
    TopicKind Category,
    string Title,
    string Summary,
    string Body,
    string? ClientView,
    string? CustomerView,
    Kind? Leaning,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<string> Related,
    IReadOnlyList<string> SourceTitles);

/// <summary>An engagement approach for a kind of buyer at a stage, optionally tailored to industries.</summary>
public sealed record EngagementStrategy(
    string Id,
    Kind Kind,
    StrategyStage Stage,
    IReadOnlyList<string> Industries,
    string Title,
    string Why,
    IReadOnlyList<string> NextSteps,
    IReadOnlyList<string> SourceTitles);

/// <summary>The loaded, validated knowledge base. Immutable: a new version is a new instance.</summary>
public sealed class KnowledgeBase
{
    private readonly Dictionary<string, KnowledgeTopic> _byId;
    private readonly List<(string Keyword, KnowledgeTopic Industry)> _industryKeywords;

    public KnowledgeBase(string version, IReadOnlyList<KnowledgeTopic> topics, IReadOnlyList<EngagementStrategy> strategies)
    {
        Version = version;
        Topics = topics;
        Strategies = strategies;
        _byId = topics.ToDictionary(t => t.Id, StringComparer.Ordinal);
        _topicNumbers = topics.Select((t, i) => (t.Id, i)).ToDictionary(t => t.Id, t => t.i, StringComparer.Ordinal);
        // Longest keyword first, so "law firm" wins over "law" and "real estate agency" over "real estate".
        _industryKeywords = topics
            .Where(t => t.Category == TopicKind.Industry)
            .SelectMany(t => t.Keywords.Append(t.Title).Select(k => (Keyword: k.ToLowerInvariant(), Industry: t)))
            .OrderByDescending(k => k.Keyword.Length)
            .ToList();
        _industryIndex = new PatternIndex(_industryKeywords.Select((k, i) => (i, System.Text.RegularExpressions.Regex.Escape(k.Keyword))).ToList());
    }

    private readonly PatternIndex _industryIndex;

    /// <summary>The first industry named in a text ("our law firm" → law), in one pass over the text.</summary>
    public KnowledgeTopic? FirstIndustryIn(string text)
    {
        var owner = _industryIndex.FirstOwner(text);
        return owner < 0 ? null : _industryKeywords[owner].Industry;
    }

    public string Version { get; }

    public IReadOnlyList<KnowledgeTopic> Topics { get; }

    public IReadOnlyList<EngagementStrategy> Strategies { get; }

    public IEnumerable<KnowledgeTopic> Industries => Topics.Where(t => t.Category == TopicKind.Industry);

    public KnowledgeTopic? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Every industry keyword with its topic, longest first (for matching in text).</summary>
    public IReadOnlyList<(string Keyword, KnowledgeTopic Industry)> IndustryKeywords => _industryKeywords;

    /// <summary>Finds an industry from a free-text name ("Banking", "law firms"); null when none matches.</summary>
    public KnowledgeTopic? FindIndustry(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var needle = text.Trim().ToLowerInvariant();
        if (_byId.TryGetValue(needle, out var direct) && direct.Category == TopicKind.Industry)
        {
            return direct;
        }

        foreach (var (keyword, industry) in _industryKeywords)
        {
            if (needle == keyword)
            {
                return industry;
            }
        }

        foreach (var (keyword, industry) in _industryKeywords)
        {
            if (TextMatching.ContainsWord(needle, keyword))
            {
                return industry;
            }
        }

        return null;
    }

    /// <summary>
    /// Strategies for a kind, best fit first: tailored to the industry before general ones,
    /// the exact stage before "any stage".
    /// </summary>
    public IReadOnlyList<EngagementStrategy> SuggestStrategies(Kind kind, string? industryId, StrategyStage stage, int max)
    {
        // The answer depends only on immutable data and the arguments, and every classification asks for it:
        // remember it for known topics (a bounded set of keys), compute it for anything else. The key holds the topic's
        // number rather than its id: a tuple with a string hashed the string (randomised, so in full) on every call.
        var topic = -1;
        if (industryId is null || _topicNumbers.TryGetValue(industryId, out topic))
        {
            return _strategyCache.GetOrAdd(
                (kind, topic, stage, max),
                static (key, arg) => arg.Knowledge.RankStrategies(key.Kind, arg.IndustryId, key.Stage, key.Max),
                (Knowledge: this, IndustryId: industryId));
        }

        return RankStrategies(kind, industryId, stage, max);
    }

    /// <summary>Each topic's number (its place in <see cref="Topics"/>) by its id: what the strategy cache's keys hold.</summary>
    private readonly Dictionary<string, int> _topicNumbers;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Kind Kind, int Topic, StrategyStage Stage, int Max), IReadOnlyList<EngagementStrategy>> _strategyCache = new();

    private IReadOnlyList<EngagementStrategy> RankStrategies(Kind kind, string? industryId, StrategyStage stage, int max)
    {
        var kinds = kind == Kind.Hybrid ? new[] { Kind.Hybrid, Kind.Client, Kind.Customer } : [kind];
        return Strategies
            .Where(s => kinds.Contains(s.Kind))
            .Where(s => stage == StrategyStage.Any || s.Stage == stage || s.Stage == StrategyStage.Any)
            .Where(s => s.Industries.Count == 0 || (industryId is not null && s.Industries.Contains(industryId)))
            .OrderBy(s => s.Kind == kind ? 0 : 1)
            .ThenBy(s => industryId is not null && s.Industries.Contains(industryId) ? 0 : 1)
            .ThenBy(s => s.Stage == stage ? 0 : 1)
            .ThenBy(s => s.Stage)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .Take(max)
            .ToList()
            .AsReadOnly();
    }
}
