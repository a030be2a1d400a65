using System.Globalization;
using System.Text;
using Advisor.Server.Classification;
using Advisor.Server.Conversation;

namespace Advisor.Server.Tests.Evaluation;

/// <summary>
/// Runs a labelled set through the shipped snapshot and prints its accuracy, a confusion matrix and
/// every miss (with the evidence behind it), so both the tuned sets and the held-out sets report alike.
/// </summary>
public sealed class LabelledSetRun(ITestOutputHelper output)
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    /// <summary>Classifies each description and returns the share classified as labelled.</summary>
    public double Buyers(string name, IReadOnlyList<LabelledSets.LabelledBuyer> cases)
    {
        var results = cases
            .Select(c => (Case: c, Expected: LabelledSets.ParseKind(c.Expected),
                Actual: BuyerClassifier.ClassifyText(Snapshot, c.Text, string.IsNullOrEmpty(c.Industry) ? null : c.Industry).Result))
            .ToList();

        var accuracy = Report(name, results.Select(r => (r.Expected, r.Actual.Kind)).ToList(), Enum.GetValues<Kind>());
        foreach (var miss in results.Where(r => r.Expected != r.Actual.Kind))
        {
            output.WriteLine($"MISS {miss.Case.Id} expected {miss.Expected} got {miss.Actual.Kind} (score {miss.Actual.Score}, client {miss.Actual.ClientWeight}, customer {miss.Actual.CustomerWeight}): {miss.Case.Text}");
            output.WriteLine("     " + string.Join("; ", miss.Actual.Evidence.Select(e => $"{e.Signal}{e.Weight:+0.0;-0.0}'{e.Span?.Text}'")));
        }

        return accuracy;
    }

    /// <summary>Reads each question's intent and returns the share read as labelled.</summary>
    public double Questions(string name, IReadOnlyList<LabelledSets.LabelledQuestion> questions)
    {
        var results = questions
            .Select(q => (Question: q, Expected: LabelledSets.ParseIntent(q.Intent), Actual: IntentDetector.Read(Snapshot, q.Text).Intent))
            .ToList();

        var accuracy = Report(name, results.Select(r => (r.Expected, r.Actual)).ToList(), Enum.GetValues<QuestionIntent>());
        foreach (var miss in results.Where(r => r.Expected != r.Actual))
        {
            output.WriteLine($"MISS expected {miss.Expected} got {miss.Actual}: {miss.Question.Text}");
        }

        return accuracy;
    }

    private double Report<T>(string name, IReadOnlyList<(T Expected, T Actual)> pairs, IReadOnlyList<T> labels)
        where T : struct, Enum
    {
        var correct = pairs.Count(p => p.Expected.Equals(p.Actual));
        var accuracy = (double)correct / pairs.Count;
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{name} accuracy {correct}/{pairs.Count} = {accuracy:P1}");
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
                table.Append(pairs.Count(p => p.Expected.Equals(expected) && p.Actual.Equals(actual)).ToString(CultureInfo.InvariantCulture).PadLeft(9));
            }

            table.AppendLine();
        }

        output.WriteLine(table.ToString());
        return accuracy;
    }
}
