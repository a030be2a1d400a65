using System.Text;
using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Tests.Evaluation;

/// <summary>
/// Runs the shipped rules over the held-out sets, which were written before tuning and are not
/// tuned against. A drop here while the labelled sets stay high means the rules are overfitting.
/// </summary>
public sealed class HoldoutAccuracyTests(ITestOutputHelper output)
{
    public const double RequiredAccuracy = 0.90;

    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    [Fact]
    public void Holdout_buyer_descriptions_are_classified_as_labelled()
    {
        var cases = YamlDocument.Parse<LabelledSets.BuyerSet>(Read("holdout-buyers.yaml"), "holdout-buyers.yaml").Value.Cases;
        cases.Count.ShouldBeGreaterThanOrEqualTo(50);
        var results = cases
            .Select(c => (Case: c, Expected: LabelledSets.ParseKind(c.Expected),
                Actual: BuyerClassifier.ClassifyText(Snapshot, c.Text, string.IsNullOrEmpty(c.Industry) ? null : c.Industry).Result))
            .ToList();

        var accuracy = Report("holdout buyers", results.Select(r => (r.Expected, r.Actual.Kind)).ToList(), Enum.GetValues<Kind>());
        foreach (var miss in results.Where(r => r.Expected != r.Actual.Kind))
        {
            output.WriteLine($"MISS {miss.Case.Id} expected {miss.Expected} got {miss.Actual.Kind} (score {miss.Actual.Score}, client {miss.Actual.ClientWeight}, customer {miss.Actual.CustomerWeight}): {miss.Case.Text}");
            output.WriteLine("     " + string.Join("; ", miss.Actual.Evidence.Select(e => $"{e.Signal}{e.Weight:+0.0;-0.0}'{e.Span?.Text}'")));
        }

        accuracy.ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }

    [Fact]
    public void Holdout_questions_are_understood_as_labelled()
    {
        var questions = YamlDocument.Parse<LabelledSets.QuestionSet>(Read("holdout-questions.yaml"), "holdout-questions.yaml").Value.Questions;
        questions.Count.ShouldBeGreaterThanOrEqualTo(30);
        var results = questions
            .Select(q => (Question: q, Expected: LabelledSets.ParseIntent(q.Intent), Actual: IntentDetector.Read(Snapshot, q.Text).Intent))
            .ToList();

        var accuracy = Report("holdout questions", results.Select(r => (r.Expected, r.Actual)).ToList(), Enum.GetValues<QuestionIntent>());
        foreach (var miss in results.Where(r => r.Expected != r.Actual))
        {
            output.WriteLine($"MISS expected {miss.Expected} got {miss.Actual}: {miss.Question.Text}");
        }

        accuracy.ShouldBeGreaterThanOrEqualTo(RequiredAccuracy);
    }

    private static string Read(string fileName) => File.ReadAllText(Path.Combine(LabelledSets.DataDirectory, fileName));

    private double Report<T>(string name, IReadOnlyList<(T Expected, T Actual)> pairs, IReadOnlyList<T> labels)
        where T : struct, Enum
    {
        var correct = pairs.Count(p => p.Expected.Equals(p.Actual));
        var accuracy = (double)correct / pairs.Count;
        var table = new StringBuilder();
        table.AppendLine($"{name} accuracy {correct}/{pairs.Count} = {accuracy:P1}");
        table.Append("expected \\ actual".PadRight(18));
        foreach (var label in labels)
        {
            table.Append(label.ToString()[..Math.Min(8, label.ToString().Length)].PadLeft(9));
        }

        table.AppendLine();
        foreach (var expected in labels.Where(l => pairs.Any(p => p.Expected.Equals(l))))
        {
            table.Append(expected.ToString().PadRight(18));
            foreach (var actual in labels)
            {
                table.Append(pairs.Count(p => p.Expected.Equals(expected) && p.Actual.Equals(actual)).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(9));
            }

            table.AppendLine();
        }

        output.WriteLine(table.ToString());
        return accuracy;
    }
}
