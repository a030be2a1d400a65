namespace Advisor.Server.Classification;

public enum AgreementState
{
    Unknown,
    None,
    Active,
    Ended,
}

public enum OfferingKind
{
    Unknown,
    Goods,
    StandardService,
    ProfessionalService,
    Advice,
    Mixed,
}

public enum MarketKind
{
    Unknown,
    Business,
    Consumer,
}

/// <summary>Typed facts about a buyer: from an API profile or derived from a registry history. Null means "not known".</summary>
public sealed record BuyerFacts
{
    public double? PurchasesPerYear { get; init; }

    public double? RelationshipMonths { get; init; }

    public AgreementState Agreement { get; init; }

    public bool? Retainer { get; init; }

    public OfferingKind Offering { get; init; }

    public bool? Personalised { get; init; }

    public bool? TwoWayCommunication { get; init; }

    public bool? PriceFocused { get; init; }

    public bool? DedicatedContact { get; init; }

    public bool? TrustBased { get; init; }

    public string? Industry { get; init; }

    public MarketKind Market { get; init; }

    public double? MonthsSinceLastContact { get; init; }
}

/// <summary>Turns typed facts into the same signals the text extractor produces, using the rule set's mapping.</summary>
public static class FactSignals
{
    /// <summary>
    /// The conditions that hold for these facts (e.g. <c>agreement_active</c>), each paired with
    /// the interactions behind it when the facts came from a history.
    /// </summary>
    public static IEnumerable<string> Conditions(BuyerFacts facts, ProfileMapping mapping)
    {
        // By name, from the one numbered mapping (ProfileTable.Conditions): a profile's ClassifyBuyer reads the numbers
        // directly, so this path (histories, the two-step Classify) no longer needs the names spelled out here as well.
        var numbers = new int[ProfileTable.MostConditions];
        var count = ProfileTable.Conditions(facts, mapping, numbers);
        for (var i = 0; i < count; i++)
        {
            yield return ProfileTable.ConditionNames[numbers[i]];
        }
    }

    public static List<SignalHit> From(BuyerFacts facts, ProfileMapping mapping)
    {
        // A loop, not Select/OfType/Select/ToList: three iterators and two delegates per call for at most a dozen items.
        var hits = new List<SignalHit>(12);
        foreach (var condition in Conditions(facts, mapping))
        {
            if (mapping.SignalFor(condition) is { } signal)
            {
                hits.Add(SignalHit.InProfile(signal));
            }
        }

        return hits;
    }
}
