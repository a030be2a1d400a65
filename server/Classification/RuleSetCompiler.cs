using System.Text.RegularExpressions;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>The outcome of compiling a rule set: the compiled set, or every problem found.</summary>
public sealed record RuleSetCompilation(CompiledRuleSet? RuleSet, IReadOnlyList<DataFileProblem> Problems, int RuleCount)
{
    public bool IsValid => RuleSet is not null;
}

/// <summary>
/// Validates a rule set document and compiles it. Reports every problem with its location
/// instead of stopping at the first, so one round of fixes is usually enough.
/// </summary>
public static class RuleSetCompiler
{
    public const string DefaultFileName = "rules.yaml";

    public const double MaxWeight = 10;

    public const double MaxPriorWeight = 3;

    /// <summary>
    /// Most patterns a rule set may hold, over all signals, and their most characters in all. Why: every pattern is
    /// parsed as a regular expression when a draft is validated (about 0.2 ms each), so a 1 MiB draft of 40,000 short
    /// patterns held a request thread for about 9 seconds. The shipped set has 79 patterns of 9,269 characters; the
    /// limits leave more than ten times that room.
    /// </summary>
    public const int MaxPatterns = 1_000;

    /// <inheritdoc cref="MaxPatterns"/>
    public const int MaxPatternCharacters = 100_000;

    private static readonly string[] SummaryKinds = ["client", "customer", "hybrid", "undetermined"];

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Data", DefaultFileName);

    /// <summary>Compiles or throws a <see cref="DataFileException"/> naming the file; for data files read at start.</summary>
    public static CompiledRuleSet CompileOrThrow(string yaml, string fileName, KnowledgeBase knowledge)
    {
        var result = Compile(yaml, fileName, knowledge);
        return result.RuleSet ?? throw new DataFileException(fileName, result.Problems);
    }

    public static RuleSetCompilation Compile(string yaml, string fileName, KnowledgeBase knowledge)
    {
        YamlDocument<RuleSetFile> document;
        try
        {
            document = YamlDocument.Parse<RuleSetFile>(yaml, fileName);
        }
        catch (DataFileException ex)
        {
            return new RuleSetCompilation(null, ex.Problems, 0);
        }

        var file = document.Value;
        var problems = new List<DataFileProblem>();
        void Problem(string path, string message) => problems.Add(new DataFileProblem(path, document.LineOf(path), message));

        if (string.IsNullOrWhiteSpace(file.Version))
        {
            Problem("version", "a version is required");
        }
        else if (file.Version.Length > 64 || !Regex.IsMatch(file.Version, @"^[A-Za-z0-9][A-Za-z0-9._\-]*$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            Problem("version", "a version is 1-64 letters, digits, dots, dashes or underscores");
        }

        var th = file.Thresholds;
        CheckRange(th.MinEvidence, 0, 20, "thresholds.min_evidence");
        CheckRange(th.DecisionMargin, 0, 20, "thresholds.decision_margin");
        CheckRange(th.HybridMinSide, 0, 50, "thresholds.hybrid_min_side");
        CheckRange(th.HybridBalance, 0, 1, "thresholds.hybrid_balance");
        CheckRange(th.ConfidenceScale, 0.1, 50, "thresholds.confidence_scale");
        CheckRange(th.NegationWindow, 0, 10, "thresholds.negation_window");
        CheckRange(th.UnsureConfidence, 0, 1, "thresholds.unsure_confidence");

        var signalIds = file.Signals.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        if (th.HybridRequiresSignal is { } required && !signalIds.Contains(required))
        {
            Problem("thresholds.hybrid_requires_signal", $"unknown signal '{required}'");
        }

        // Counted before any pattern is parsed, so an oversized draft is answered at once; its patterns are then only
        // checked for length.
        var patternCount = file.Signals.Sum(s => s.Patterns.Count);
        var patternCharacters = file.Signals.Sum(s => s.Patterns.Sum(p => (long)p.Length));
        var parsePatterns = patternCount <= MaxPatterns && patternCharacters <= MaxPatternCharacters;
        if (!parsePatterns)
        {
            Problem("signals", $"the signals hold {patternCount:N0} patterns of {patternCharacters:N0} characters; at most {MaxPatterns:N0} patterns of {MaxPatternCharacters:N0} characters in all are allowed");
        }

        var signals = new List<SignalDefinition>();
        var seenSignals = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < file.Signals.Count; i++)
        {
            var s = file.Signals[i];
            var at = $"signals[{i}]";
            if (string.IsNullOrWhiteSpace(s.Id) || !Regex.IsMatch(s.Id, "^[a-z][a-z0-9_]*$", RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                Problem($"{at}.id", $"signal id '{s.Id}' must be lower_snake_case");
            }
            else if (!seenSignals.Add(s.Id))
            {
                Problem($"{at}.id", $"duplicate signal id '{s.Id}'");
            }

            if (string.IsNullOrWhiteSpace(s.Label))
            {
                Problem($"{at}.label", "a short label is required (it appears in summaries)");
            }

            if (s.Negated is { } negated && !signalIds.Contains(negated))
            {
                Problem($"{at}.negated", $"unknown signal '{negated}'");
            }

            StrategyStage? stage = null;
            if (s.Stage is { } stageText)
            {
                if (Enum.TryParse<StrategyStage>(stageText.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var parsed) && parsed != StrategyStage.Any)
                {
                    stage = parsed;
                }
                else
                {
                    Problem($"{at}.stage", $"unknown stage '{stageText}' (expected new, active, at_risk or lapsed)");
                }
            }

            for (var p = 0; p < s.Patterns.Count; p++)
            {
                if ((parsePatterns ? SignalExtractor.CheckPattern(s.Patterns[p]) : SignalExtractor.CheckPatternLength(s.Patterns[p])) is { } error)
                {
                    Problem($"{at}.patterns[{p}]", "invalid pattern: " + error);
                }
                else if (parsePatterns && Regex.IsMatch("", s.Patterns[p], RegexOptions.None, TimeSpan.FromSeconds(1)))
                {
                    Problem($"{at}.patterns[{p}]", "the pattern matches empty text");
                }
            }

            signals.Add(new SignalDefinition(s.Id, s.Label.Trim(), s.Negated, stage, s.Group, s.Patterns));
        }

        var rules = new List<Rule>();
        var seenRules = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < file.Rules.Count; i++)
        {
            var r = file.Rules[i];
            var at = $"rules[{i}]";
            if (string.IsNullOrWhiteSpace(r.Id))
            {
                Problem($"{at}.id", "a rule id is required");
            }
            else if (!seenRules.Add(r.Id))
            {
                Problem($"{at}.id", $"duplicate rule id '{r.Id}'");
            }

            if (!signalIds.Contains(r.Signal))
            {
                Problem($"{at}.signal", $"unknown signal '{r.Signal}'");
            }

            if (r.Weight == 0 || Math.Abs(r.Weight) > MaxWeight || double.IsNaN(r.Weight))
            {
                Problem($"{at}.weight", $"weight {r.Weight} is out of range (non-zero, between -{MaxWeight} and {MaxWeight})");
            }

            if (string.IsNullOrWhiteSpace(r.Explanation))
            {
                Problem($"{at}.explanation", "an explanation is required (it is shown to users)");
            }

            rules.Add(new Rule(r.Id, r.Signal, r.Weight, r.Explanation.Trim()));
        }

        var sourceTitles = knowledge.Topics.SelectMany(t => t.SourceTitles).ToHashSet(StringComparer.Ordinal);
        var priors = new List<IndustryPrior>();
        var seenPriors = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < file.IndustryPriors.Count; i++)
        {
            var p = file.IndustryPriors[i];
            var at = $"industry_priors[{i}]";
            var topic = knowledge.Find(p.Industry);
            if (topic is null || topic.Category != TopicKind.Industry)
            {
                Problem($"{at}.industry", $"unknown industry '{p.Industry}' (use an industry topic id from the knowledge base)");
            }
            else if (!seenPriors.Add(p.Industry))
            {
                Problem($"{at}.industry", $"duplicate prior for '{p.Industry}'");
            }

            if (Math.Abs(p.Weight) > MaxPriorWeight || double.IsNaN(p.Weight))
            {
                Problem($"{at}.weight", $"weight {p.Weight} is out of range (between -{MaxPriorWeight} and {MaxPriorWeight}: a prior must stay weaker than evidence)");
            }

            if (string.IsNullOrWhiteSpace(p.Source))
            {
                Problem($"{at}.source", "an industry prior needs the title of the article it comes from");
            }
            else if (!sourceTitles.Contains(p.Source))
            {
                Problem($"{at}.source", $"'{p.Source}' is not a source article of the knowledge base");
            }

            if (string.IsNullOrWhiteSpace(p.Explanation))
            {
                Problem($"{at}.explanation", "an explanation is required (it is shown to users)");
            }

            priors.Add(new IndustryPrior(p.Industry, p.Weight, p.Explanation.Trim(), p.Source));
        }

        foreach (var (condition, signal) in file.Profile.Signals)
        {
            if (!ProfileMapping.KnownConditions.Contains(condition))
            {
                Problem($"profile.signals.{condition}", $"unknown profile condition '{condition}'");
            }

            if (!signalIds.Contains(signal))
            {
                Problem($"profile.signals.{condition}", $"unknown signal '{signal}'");
            }
        }

        var pr = file.Profile;
        CheckRange(pr.FrequentPurchasesPerYear, 1, 10_000, "profile.frequent_purchases_per_year");
        CheckRange(pr.OneOffPurchasesPerYear, 0, pr.FrequentPurchasesPerYear, "profile.one_off_purchases_per_year");
        CheckRange(pr.LongTenureMonths, 1, 1200, "profile.long_tenure_months");
        CheckRange(pr.ShortTenureMonths, 0, pr.LongTenureMonths, "profile.short_tenure_months");
        CheckRange(pr.AtRiskAfterMonths, 0, 1200, "profile.at_risk_after_months");
        CheckRange(pr.LapsedAfterMonths, pr.AtRiskAfterMonths, 1200, "profile.lapsed_after_months");

        var groups = signals.Select(s => s.Group).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var questions = new List<OpenQuestion>();
        for (var i = 0; i < file.OpenQuestions.Count; i++)
        {
            var q = file.OpenQuestions[i];
            if (!groups.Contains(q.Group))
            {
                Problem($"open_questions[{i}].group", $"no signal belongs to group '{q.Group}'");
            }

            if (string.IsNullOrWhiteSpace(q.Question))
            {
                Problem($"open_questions[{i}].question", "the question text is required");
            }

            questions.Add(new OpenQuestion(q.Group, q.Question.Trim()));
        }

        foreach (var kind in SummaryKinds.Where(k => !file.Summaries.ContainsKey(k)))
        {
            Problem("summaries", $"a summary template for '{kind}' is required");
        }

        if (file.NegationCues.Count == 0)
        {
            Problem("negation_cues", "at least one negation cue is required");
        }

        if (problems.Count > 0)
        {
            return new RuleSetCompilation(null, problems, file.Rules.Count);
        }

        var thresholds = new DecisionThresholds(th.MinEvidence, th.DecisionMargin, th.HybridMinSide, th.HybridBalance, th.ConfidenceScale, th.NegationWindow, th.UnsureConfidence, th.HybridRequiresSignal);
        var profile = new ProfileMapping(pr.FrequentPurchasesPerYear, pr.OneOffPurchasesPerYear, pr.LongTenureMonths, pr.ShortTenureMonths,
            pr.LapsedAfterMonths, pr.AtRiskAfterMonths, new Dictionary<string, string>(pr.Signals, StringComparer.Ordinal));
        var extractor = new SignalExtractor(signals, file.NegationCues, file.ClauseBreaks, th.NegationWindow);
        var compiled = new CompiledRuleSet(file.Version, yaml, signals, rules, priors, questions, thresholds, profile, extractor,
            new Dictionary<string, string>(file.Summaries, StringComparer.Ordinal));
        return new RuleSetCompilation(compiled, [], rules.Count);

        void CheckRange(double value, double min, double max, string path)
        {
            if (double.IsNaN(value) || value < min || value > max)
            {
                Problem(path, $"{value} is out of range ({min} to {max})");
            }
        }
    }
}
