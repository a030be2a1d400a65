using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Tests.Evaluation;

#pragma warning disable CA2227 // filled by the YAML reader

/// <summary>
/// The project's labelled buyer descriptions (server/Data/labelled-buyers.yaml, shipped with the server because
/// backtests run on it) and chat questions (tests/Advisor.Server.Tests/Data); both are copied to Data/ in the test output.
/// </summary>
public static class LabelledSets
{
    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "Data");

    public static IReadOnlyList<LabelledBuyer> Buyers() =>
        YamlDocument.Parse<BuyerSet>(File.ReadAllText(Path.Combine(DataDirectory, "labelled-buyers.yaml")), "labelled-buyers.yaml").Value.Cases;

    public static IReadOnlyList<LabelledQuestion> Questions() =>
        YamlDocument.Parse<QuestionSet>(File.ReadAllText(Path.Combine(DataDirectory, "labelled-questions.yaml")), "labelled-questions.yaml").Value.Questions;

    public static Kind ParseKind(string label) => Enum.Parse<Kind>(label, ignoreCase: true);

    public static QuestionIntent ParseIntent(string label) => Enum.Parse<QuestionIntent>(label.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);

    public sealed class BuyerSet
    {
        public List<LabelledBuyer> Cases { get; set; } = [];
    }

    public sealed class LabelledBuyer
    {
        public string Id { get; set; } = "";

        public string Text { get; set; } = "";

        public string? Industry { get; set; }

        public string Expected { get; set; } = "";
    }

    public sealed class QuestionSet
    {
        public List<LabelledQuestion> Questions { get; set; } = [];
    }

    public sealed class LabelledQuestion
    {
        public string Text { get; set; } = "";

        public string Intent { get; set; } = "";
    }
}
