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
        switch (facts.Agreement)
        {
            case AgreementState.None: yield return "agreement_none"; break;
            case AgreementState.Active: yield return "agreement_active"; break;
            case AgreementState.Ended: yield return "agreement_ended"; break;
        }

        if (facts.Retainer is { } retainer)
        {
            yield return retainer ? "retainer_true" : "retainer_false";
        }

        switch (facts.Offering)
        {
            case OfferingKind.Goods: yield return "offering_goods"; break;
            case OfferingKind.StandardService: yield return "offering_standard_service"; break;
            case OfferingKind.ProfessionalService: yield return "offering_professional_service"; break;
            case OfferingKind.Advice: yield return "offering_advice"; break;
            case OfferingKind.Mixed: yield return "offering_mixed"; break;
        }

        // Spelled out rather than built as name + "_true": every ClassifyBuyer(profile) call passes here, and the
        // concatenations (and the array of pairs they came from) were allocations per call for constant text.
        if (facts.Personalised is { } personalised)
        {
            yield return personalised ? "personalised_true" : "personalised_false";
        }

        if (facts.TwoWayCommunication is { } twoWay)
        {
            yield return twoWay ? "two_way_true" : "two_way_false";
        }

        if (facts.PriceFocused is { } priceFocused)
        {
            yield return priceFocused ? "price_focused_true" : "price_focused_false";
        }

        if (facts.DedicatedContact is { } dedicatedContact)
        {
            yield return dedicatedContact ? "dedicated_contact_true" : "dedicated_contact_false";
        }

        if (facts.TrustBased is { } trust)
        {
            yield return trust ? "trust_true" : "trust_false";
        }

        if (facts.PurchasesPerYear is { } perYear)
        {
            if (perYear <= mapping.OneOffPurchasesPerYear)
            {
                yield return "one_off_purchase";
            }
            else if (perYear >= mapping.FrequentPurchasesPerYear)
            {
                yield return "frequent_purchases";
            }
            else
            {
                yield return "occasional_purchases";
            }
        }

        if (facts.RelationshipMonths is { } months)
        {
            if (months >= mapping.LongTenureMonths)
            {
                yield return "long_tenure";
            }
            else if (months <= mapping.ShortTenureMonths)
            {
                yield return "short_tenure";
            }
            else
            {
                yield return "medium_tenure";
            }
        }

        switch (facts.Market)
        {
            case MarketKind.Business: yield return "market_b2b"; break;
            case MarketKind.Consumer: yield return "market_b2c"; break;
        }

        if (facts.MonthsSinceLastContact is { } since)
        {
            if (since >= mapping.LapsedAfterMonths)
            {
                yield return "lapsed";
            }
            else if (since >= mapping.AtRiskAfterMonths)
            {
                yield return "at_risk";
            }
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
