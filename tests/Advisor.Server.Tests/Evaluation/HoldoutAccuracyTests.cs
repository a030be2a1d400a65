using Advisor.Server.Knowledge;

namespace Advisor.Server.Tests.Evaluation;

/// <summary>
/// Runs the shipped rules over the held-out sets, which were written before tuning and are not
/// tuned against. A drop here while the labelled sets stay high means the rules are overfitting.
/// </summary>
public sealed class HoldoutAccuracyTests(ITestOutputHelper output)
{
    public const double RequiredAccuracy = 0.90;

    private readonly LabelledSetRun _run = new(output);

    [Fact]
    public void Holdout_buyer_descriptions_are_classified_as_labelled()
    {
        var cases = YamlDocument.Parse<LabelledSets.BuyerSet>(Read("holdout-buyers.yaml"), "holdout-buyers.yaml").Value.Cases;
        cases.Count.ShouldBeGreaterThanOrEqualTo(50);
        _run.Buyers("holdout buyers", cases).ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }

    [Fact]
    public void Holdout_questions_are_understood_as_labelled()
    {
        var questions = YamlDocument.Parse<LabelledSets.QuestionSet>(Read("holdout-questions.yaml"), "holdout-questions.yaml").Value.Questions;
        questions.Count.ShouldBeGreaterThanOrEqualTo(30);
        _run.Questions("holdout questions", questions).ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }

    private static string Read(string fileName) => File.ReadAllText(Path.Combine(LabelledSets.DataDirectory, fileName));
}
