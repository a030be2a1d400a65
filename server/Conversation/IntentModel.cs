using System.Text.RegularExpressions;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Conversation;

/// <summary>What a question was about; mirrors <c>advisor.v1.Intent</c>.</summary>
public enum QuestionIntent
{
    Unknown,
    Classify,
    Define,
    Compare,
    Strategy,
    Industry,
    BuyerLookup,
    Help,
}

/// <summary>The compiled vocabulary of Ask, loaded from Data/intents.yaml.</summary>
public sealed class IntentModel
{
    public const string DefaultFileName = "intents.yaml";

    private static readonly string[] PatternGroups = ["help", "classify_cue", "compare", "define", "strategy", "industry"];
    private static readonly string[] RequiredAnswers = ["help", "unknown", "lookup_not_found", "lookup_ambiguous", "lookup_no_history", "compare_intro", "industry_unknown", "strategy_intro", "define_both"];

    private IntentModel(
        string version,
        IReadOnlyList<string> vocabulary,
        double classifyMinEvidence,
        IReadOnlyDictionary<string, Regex> patterns,
        IReadOnlyList<Regex> lookupPatterns,
        IReadOnlySet<string> notNames,
        IReadOnlySet<string> stopWords,
        IReadOnlyDictionary<Kind, IReadOnlyList<string>> kindWords,
        IReadOnlyDictionary<StrategyStage, IReadOnlyList<string>> stageWords,
        IReadOnlyDictionary<string, string> answers,
        IReadOnlyDictionary<string, IReadOnlyList<string>> followUps)
    {
        Version = version;
        Vocabulary = vocabulary;
        ClassifyMinEvidence = classifyMinEvidence;
        Patterns = patterns;
        LookupPatterns = lookupPatterns;
        NotNames = notNames;
        StopWords = stopWords;
        KindWords = kindWords;
        StageWords = stageWords;
        Answers = answers;
        FollowUps = followUps;
    }

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Data", DefaultFileName);

    public string Version { get; }

    public IReadOnlyList<string> Vocabulary { get; }

    public double ClassifyMinEvidence { get; }

    public IReadOnlyDictionary<string, Regex> Patterns { get; }

    public IReadOnlyList<Regex> LookupPatterns { get; }

    public IReadOnlySet<string> NotNames { get; }

    public IReadOnlySet<string> StopWords { get; }

    public IReadOnlyDictionary<Kind, IReadOnlyList<string>> KindWords { get; }

    public IReadOnlyDictionary<StrategyStage, IReadOnlyList<string>> StageWords { get; }

    public IReadOnlyDictionary<string, string> Answers { get; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> FollowUps { get; }

    public bool Matches(string group, string text) => Patterns.TryGetValue(group, out var regex) && regex.IsMatch(text);

    public string Answer(string key) => Answers.GetValueOrDefault(key, "");

    public IReadOnlyList<string> FollowUpsFor(QuestionIntent intent) =>
        FollowUps.GetValueOrDefault(IntentKey(intent)) ?? [];

    public static string IntentKey(QuestionIntent intent) => intent switch
    {
        QuestionIntent.BuyerLookup => "buyer_lookup",
        _ => intent.ToString().ToLowerInvariant(),
    };

    public static IntentModel LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFileException(path, [new DataFileProblem("(file)", 0, "the file does not exist")]);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static IntentModel Parse(string yaml, string fileName)
    {
        var document = YamlDocument.Parse<IntentFile>(yaml, fileName);
        var file = document.Value;
        var problems = new List<DataFileProblem>();
        void Problem(string path, string message) => problems.Add(new DataFileProblem(path, document.LineOf(path), message));

        Regex? Compile(IReadOnlyList<string> alternatives, string path)
        {
            for (var i = 0; i < alternatives.Count; i++)
            {
                if (SignalExtractor.CheckPattern(alternatives[i]) is { } error)
                {
                    Problem($"{path}[{i}]", "invalid pattern: " + error);
                    return null;
                }
            }

            return new Regex(
                "(?:" + string.Join(")|(?:", alternatives) + ")",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled,
                // Generous, as in PatternIndex: it stops a pathological pattern, and must not fire on a
                // normal question when a busy machine deschedules the thread mid-match (seen at load 36 on 2 cores).
                TimeSpan.FromSeconds(5));
        }

        if (string.IsNullOrWhiteSpace(file.Version))
        {
            Problem("version", "a version is required");
        }

        var patterns = new Dictionary<string, Regex>(StringComparer.Ordinal);
        foreach (var group in PatternGroups)
        {
            if (!file.Patterns.TryGetValue(group, out var list) || list.Count == 0)
            {
                Problem($"patterns.{group}", "at least one pattern is required");
            }
            else if (Compile(list, $"patterns.{group}") is { } regex)
            {
                patterns[group] = regex;
            }
        }

        foreach (var unknown in file.Patterns.Keys.Except(PatternGroups))
        {
            Problem($"patterns.{unknown}", $"unknown pattern group '{unknown}'");
        }

        var lookups = new List<Regex>();
        for (var i = 0; i < file.Lookup.Patterns.Count; i++)
        {
            if (Compile([file.Lookup.Patterns[i]], $"lookup.patterns[{i}]") is { } regex)
            {
                if (regex.GroupNumberFromName("name") < 0)
                {
                    Problem($"lookup.patterns[{i}]", "a lookup pattern needs a (?<name>...) group");
                }

                lookups.Add(regex);
            }
        }

        var kindWords = new Dictionary<Kind, IReadOnlyList<string>>();
        foreach (var (key, words) in file.KindWords)
        {
            if (Enum.TryParse<Kind>(key, ignoreCase: true, out var kind) && kind != Kind.Undetermined)
            {
                kindWords[kind] = words.Select(w => w.ToLowerInvariant()).ToList();
            }
            else
            {
                Problem($"kind_words.{key}", $"unknown kind '{key}'");
            }
        }

        var stageWords = new Dictionary<StrategyStage, IReadOnlyList<string>>();
        foreach (var (key, words) in file.StageWords)
        {
            if (Enum.TryParse<StrategyStage>(key.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var stage) && stage != StrategyStage.Any)
            {
                stageWords[stage] = words.Select(w => w.ToLowerInvariant()).ToList();
            }
            else
            {
                Problem($"stage_words.{key}", $"unknown stage '{key}'");
            }
        }

        foreach (var key in RequiredAnswers.Where(k => !file.Answers.ContainsKey(k)))
        {
            Problem("answers", $"the answer text '{key}' is required");
        }

        if (problems.Count > 0)
        {
            throw new DataFileException(fileName, problems);
        }

        return new IntentModel(
            file.Version,
            file.Vocabulary.Select(v => v.ToLowerInvariant()).ToList(),
            file.ClassifyMinEvidence,
            patterns,
            lookups,
            file.Lookup.NotNames.Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
            file.Lookup.StopWords.Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
            kindWords,
            stageWords,
            file.Answers.ToDictionary(a => a.Key, a => a.Value.Trim(), StringComparer.Ordinal),
            file.FollowUps.ToDictionary(f => f.Key, f => (IReadOnlyList<string>)f.Value, StringComparer.Ordinal));
    }
}
