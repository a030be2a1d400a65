namespace Advisor.Server.Tests.Evaluation;

/// <summary>
/// Runs the shipped rules over the labelled sets and prints accuracy and a confusion matrix.
/// Fails below 95%: the sets are the project's yardstick for every rule change.
/// </summary>
public sealed class AccuracyTests(ITestOutputHelper output)
{
    public const double RequiredAccuracy = 0.95;

    private readonly LabelledSetRun _run = new(output);

    [Fact]
    public void Buyer_descriptions_are_classified_as_labelled()
    {
        var cases = LabelledSets.Buyers();
        cases.Count.ShouldBeGreaterThanOrEqualTo(150);
        _run.Buyers("labelled buyers", cases).ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }

    [Fact]
    public void Questions_are_understood_as_labelled()
    {
        var questions = LabelledSets.Questions();
        questions.Count.ShouldBeGreaterThanOrEqualTo(60);
        _run.Questions("labelled questions", questions).ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }
}
