using Advisor.Server.Classification;
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
}
