using Advisor.Server.Classification;

namespace Advisor.Server.Knowledge;

/// <summary>Loads Data/knowledge.yaml and refuses anything incomplete or inconsistent.</summary>
public static class KnowledgeLoader
{
    public const string DefaultFileName = "knowledge.yaml";

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Data", DefaultFileName);

    public static KnowledgeBase LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFileException(path, [new DataFileProblem("(file)", 0, "the file does not exist")]);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static KnowledgeBase Parse(string yaml, string fileName)
    {
        var document = YamlDocument.Parse<KnowledgeFile>(yaml, fileName);
        var file = document.Value;
        var problems = new List<DataFileProblem>();
        void Problem(string path, string message) => problems.Add(new DataFileProblem(path, document.LineOf(path), message));

        if (string.IsNullOrWhiteSpace(file.Version))
        {
            Problem("version", "a version is required");
        }

        var sourceTitles = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < file.Sources.Count; i++)
        {
            var source = file.Sources[i];
            if (string.IsNullOrWhiteSpace(source.Id) || string.IsNullOrWhiteSpace(source.Title))
            {
                Problem($"sources[{i}]", "a source needs an id and a title");
            }
            else if (!sourceTitles.TryAdd(source.Id, source.Title))
            {
                Problem($"sources[{i}].id", $"duplicate source id '{source.Id}'");
            }
        }

        var topicIds = file.Topics.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var seenTopics = new HashSet<string>(StringComparer.Ordinal);
        var topics = new List<KnowledgeTopic>();
        for (var i = 0; i < file.Topics.Count; i++)
        {
            var t = file.Topics[i];
            var at = $"topics[{i}]";
            if (string.IsNullOrWhiteSpace(t.Id))
            {
                Problem($"{at}.id", "an id is required");
            }
            else if (!seenTopics.Add(t.Id))
            {
                Problem($"{at}.id", $"duplicate topic id '{t.Id}'");
            }

            if (!Enum.TryParse<TopicKind>(t.Category, ignoreCase: true, out var category))
            {
                Problem($"{at}.category", $"unknown category '{t.Category}' (expected definition, dimension, industry or concept)");
            }

            RequireText(t.Title, $"{at}.title");
            RequireText(t.Summary, $"{at}.summary");
            RequireText(t.Body, $"{at}.body");
            Kind? leaning = null;
            if (category is TopicKind.Dimension or TopicKind.Industry)
            {
                RequireText(t.ClientView, $"{at}.client_view");
                RequireText(t.CustomerView, $"{at}.customer_view");
            }

            if (category == TopicKind.Industry)
            {
                leaning = ParseKind(t.Leaning, $"{at}.leaning");
                if (t.Keywords.Count == 0)
                {
                    Problem($"{at}.keywords", "an industry needs the words people use for it");
                }
            }

            foreach (var related in t.Related.Where(r => !topicIds.Contains(r)))
            {
                Problem($"{at}.related", $"unknown topic '{related}'");
            }

            topics.Add(new KnowledgeTopic(
                t.Id, category, t.Title.Trim(), t.Summary.Trim(), t.Body.Trim(), t.ClientView?.Trim(), t.CustomerView?.Trim(), leaning,
                t.Keywords.Select(k => k.Trim().ToLowerInvariant()).Where(k => k.Length > 0).ToList(),
                t.Related, Titles(t.Sources, $"{at}.sources")));
        }

        var strategies = new List<EngagementStrategy>();
        var seenStrategies = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < file.Strategies.Count; i++)
        {
            var s = file.Strategies[i];
            var at = $"strategies[{i}]";
            if (string.IsNullOrWhiteSpace(s.Id) || !seenStrategies.Add(s.Id))
            {
                Problem($"{at}.id", string.IsNullOrWhiteSpace(s.Id) ? "an id is required" : $"duplicate strategy id '{s.Id}'");
            }

            var kind = ParseKind(s.Kind, $"{at}.kind") ?? Kind.Client;
            var stage = s.Stage.Replace("_", "", StringComparison.Ordinal) is var st && Enum.TryParse<StrategyStage>(st, ignoreCase: true, out var parsed)
                ? parsed
                : StrategyStage.Any;
            if (!Enum.TryParse<StrategyStage>(s.Stage.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out _))
            {
                Problem($"{at}.stage", $"unknown stage '{s.Stage}' (expected new, active, at_risk, lapsed or any)");
            }

            foreach (var industry in s.Industries.Where(x => !topicIds.Contains(x)))
            {
                Problem($"{at}.industries", $"unknown industry topic '{industry}'");
            }

            RequireText(s.Title, $"{at}.title");
            RequireText(s.Why, $"{at}.why");
            if (s.NextSteps.Count == 0)
            {
                Problem($"{at}.next_steps", "at least one next step is required");
            }

            strategies.Add(new EngagementStrategy(s.Id, kind, stage, s.Industries, s.Title.Trim(), s.Why.Trim(),
                s.NextSteps.Select(x => x.Trim()).ToList(), Titles(s.Sources, $"{at}.sources")));
        }

        if (problems.Count > 0)
        {
            throw new DataFileException(fileName, problems);
        }

        return new KnowledgeBase(file.Version, topics, strategies);

        void RequireText(string? value, string path)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Problem(path, "text is required");
            }
        }

        Kind? ParseKind(string? value, string path)
        {
            switch (value?.Trim().ToLowerInvariant())
            {
                case "client": return Kind.Client;
                case "customer": return Kind.Customer;
                case "hybrid": return Kind.Hybrid;
                default:
                    Problem(path, $"unknown kind '{value}' (expected client, customer or hybrid)");
                    return null;
            }
        }

        List<string> Titles(List<string> ids, string path)
        {
            if (ids.Count == 0)
            {
                Problem(path, "name at least one source article");
            }

            var titles = new List<string>();
            foreach (var id in ids)
            {
                if (sourceTitles.TryGetValue(id, out var title))
                {
                    titles.Add(title);
                }
                else
                {
                    Problem(path, $"unknown source '{id}'");
                }
            }

            return titles;
        }
    }
}
