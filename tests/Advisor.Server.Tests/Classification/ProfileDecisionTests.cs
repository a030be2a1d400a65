using Advisor.Server.Classification;
using Advisor.Server.Knowledge;
using CsCheck;

namespace Advisor.Server.Tests.Classification;

/// <summary>The table-driven decision for typed facts agrees with the full, explained classification.</summary>
public sealed class ProfileDecisionTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static readonly Gen<bool?> Tri = Gen.Int[0, 2].Select(i => i switch { 0 => (bool?)null, 1 => true, _ => false });

    private static readonly Gen<double?> Amount = Gen.Int[-1, 60].Select(i => i < 0 ? (double?)null : i);

    private static readonly Gen<BuyerFacts> Facts =
        from agreement in Gen.Enum<AgreementState>()
        from offering in Gen.Enum<OfferingKind>()
        from market in Gen.Enum<MarketKind>()
        from flags in Gen.Select(Tri, Tri, Tri, Tri, Tri, Tri)
        from numbers in Gen.Select(Amount, Amount, Amount)
        from industry in Gen.Int[0, 3].Select(i => i switch { 0 => null, 1 => "law", 2 => "retail", _ => "banking" })
        select new BuyerFacts
        {
            Agreement = agreement,
            Offering = offering,
            Market = market,
            Retainer = flags.Item1,
            Personalised = flags.Item2,
            TwoWayCommunication = flags.Item3,
            PriceFocused = flags.Item4,
            DedicatedContact = flags.Item5,
            TrustBased = flags.Item6,
            PurchasesPerYear = numbers.Item1,
            RelationshipMonths = numbers.Item2,
            MonthsSinceLastContact = numbers.Item3,
            Industry = industry,
        };

    [Fact]
    public void Decide_gives_the_same_kind_confidence_and_score_as_classify()
    {
        var rules = Snapshot.Rules;
        Facts.Sample(facts =>
        {
            var industry = Snapshot.Knowledge.FindIndustry(facts.Industry);
            var full = rules.Classify(FactSignals.From(facts, rules.Profile), industry);
            var quick = rules.Decide(facts, industry);
            quick.ShouldBe(new ProfileDecision(full.Kind, full.Confidence, full.Score), facts.ToString());
        }, iter: 5000);
    }

    [Fact]
    public void ClassifyProfile_gives_the_same_result_as_classify_over_the_facts_signals()
    {
        var rules = Snapshot.Rules;
        var stages = Enum.GetValues<StrategyStage>();
        Facts.Select(Gen.Int[0, stages.Length - 1]).Sample((facts, stage) =>
        {
            var industry = Snapshot.Knowledge.FindIndustry(facts.Industry);
            var listed = rules.Classify(FactSignals.From(facts, rules.Profile), industry, stages[stage]);
            var numbered = rules.ClassifyProfile(facts, industry, stages[stage]);
            var context = $"{facts} {stages[stage]}";
            (numbered.Kind, numbered.Confidence, numbered.Score, numbered.ClientWeight, numbered.CustomerWeight, numbered.Summary)
                .ShouldBe((listed.Kind, listed.Confidence, listed.Score, listed.ClientWeight, listed.CustomerWeight, listed.Summary), context);
            (numbered.RuleSetVersion, numbered.Industry, numbered.Stage).ShouldBe((listed.RuleSetVersion, listed.Industry, listed.Stage), context);
            numbered.OpenQuestions.ShouldBe(listed.OpenQuestions, context);
            numbered.Evidence.Count.ShouldBe(listed.Evidence.Count, context);
            for (var i = 0; i < listed.Evidence.Count; i++)
            {
                var (n, l) = (numbered.Evidence[i], listed.Evidence[i]);
                (n.Signal, n.RuleId, n.Weight, n.Span, n.Explanation, n.Source).ShouldBe((l.Signal, l.RuleId, l.Weight, l.Span, l.Explanation, l.Source), context);
                n.InteractionIds.ShouldBeEmpty(context);
                l.InteractionIds.ShouldBeEmpty(context);
            }
        }, iter: 5000);
    }
}
