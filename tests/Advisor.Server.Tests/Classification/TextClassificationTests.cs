using System.Text.RegularExpressions;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;
using CsCheck;

namespace Advisor.Server.Tests.Classification;

/// <summary>
/// A description is classified from numbered hits in a pooled buffer (<see cref="CompiledRuleSet.ClassifyText"/>), not
/// from the <see cref="SignalHit"/> objects <see cref="SignalExtractor.Extract"/> makes. It must give exactly the result
/// the hits give: checked on generated text made of the shipped rules' own words, negation cues, industry names and
/// punctuation, with and without an industry and a stage.
/// </summary>
public sealed class TextClassificationTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static readonly string[] Words = Snapshot.Rules.Signals.Values
        .SelectMany(s => s.Patterns)
        .SelectMany(p => Regex.Matches(p, "[A-Za-z']{2,}").Select(m => m.Value))
        .Concat(Snapshot.Knowledge.IndustryKeywords.Select(k => k.Keyword))
        .Concat(["no", "not", "never", "didn't", "without", "but", "and", "they", "we", "the", "a", "2016", "12", "£40", "caf\u00e9", "\u212Aeep"])
        .Distinct()
        .ToArray();

    private static readonly string[] Separators = [" ", " ", " ", ", ", ". ", "; ", "-", "'", "\n", "  "];

    private static readonly StrategyStage[] Stages = Enum.GetValues<StrategyStage>();

    [Fact]
    public void Classifying_a_text_gives_what_its_extracted_hits_give()
    {
        var word = Gen.Int[0, Words.Length - 1].Select(i => Words[i]).Select(Gen.Int[0, 3], (w, c) => c == 0 ? w.ToUpperInvariant() : w);
        var text = Gen.Select(word, Gen.Int[0, Separators.Length - 1].Select(i => Separators[i])).Array[1, 60]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));
        var industries = Snapshot.Knowledge.Industries.Select(i => (KnowledgeTopic?)i).Prepend(null).ToArray();
        var input = Gen.Select(text, Gen.Int[0, industries.Length - 1], Gen.Int[0, Stages.Length - 1]);

        input.Sample((t, industry, stage) =>
        {
            var rules = Snapshot.Rules;
            var expected = rules.Classify(rules.Extractor.Extract(t), industries[industry], Stages[stage]);
            var actual = rules.ClassifyText(t, industries[industry], Stages[stage]);

            Describe(actual).ShouldBe(Describe(expected), t);
            actual.Evidence.Select(Describe).ShouldBe(expected.Evidence.Select(Describe), t);
            actual.OpenQuestions.ShouldBe(expected.OpenQuestions, t);
        }, iter: 2000);
    }

    [Fact]
    public void A_span_cut_on_demand_equals_the_span_with_its_text()
    {
        const string text = "They signed a retainer.";

        var cut = Span.In(text, 14, 22);

        cut.Text.ShouldBe("retainer");
        cut.ShouldBe(new Span(14, 22, "retainer"));
        cut.GetHashCode().ShouldBe(new Span(14, 22, "retainer").GetHashCode());
        cut.ShouldNotBe(new Span(14, 22, "retained"));
        Span.In(text, 0, text.Length).ShouldBe(new Span(0, text.Length, text));
        Should.Throw<ArgumentOutOfRangeException>(() => Span.In(text, 14, 40));
        Should.Throw<ArgumentOutOfRangeException>(() => new Span(0, 3, "retainer"));
    }

    private static string Describe(ClassificationResult r) =>
        $"{r.Kind} {r.Confidence} {r.Score} {r.ClientWeight} {r.CustomerWeight} {r.Summary} | {r.RuleSetVersion} {r.Industry?.Id} {r.Stage}";

    private static string Describe(EvidenceItem e) =>
        $"{e.Signal} {e.RuleId} {e.Weight} {e.Span?.Start}-{e.Span?.End} '{e.Span?.Text}' {e.Explanation} {e.Source} [{string.Join(",", e.InteractionIds)}]";
}
