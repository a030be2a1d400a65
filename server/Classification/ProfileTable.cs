namespace Advisor.Server.Classification;

/// <summary>The decision for typed facts without evidence: what <see cref="CompiledRuleSet.Decide"/> returns.</summary>
public readonly record struct ProfileDecision(Kind Kind, double Confidence, double Score);

/// <summary>
/// The rule set's weights laid out per profile condition, so scoring typed facts is a few array reads
/// and additions: no strings, no lists, no allocation. Conditions come from <see cref="Conditions"/>, as the full
/// path's do, and each signal counts once, so the sums equal the full path's.
/// </summary>
internal sealed class ProfileTable
{
    private static readonly string[] Names =
    [
        "agreement_none", "agreement_active", "agreement_ended", "retainer_true", "retainer_false",
        "offering_goods", "offering_standard_service", "offering_professional_service", "offering_advice", "offering_mixed",
        "personalised_true", "personalised_false", "two_way_true", "two_way_false", "price_focused_true", "price_focused_false",
        "dedicated_contact_true", "dedicated_contact_false", "trust_true", "trust_false",
        "one_off_purchase", "frequent_purchases", "occasional_purchases", "long_tenure", "short_tenure", "medium_tenure",
        "market_b2b", "market_b2c", "lapsed", "at_risk",
    ];

    /// <summary>The most conditions that hold at once: one per fact (the twelve facts each give at most one).</summary>
    public const int MostConditions = 12;

    /// <summary>The conditions by number, as <see cref="Conditions"/> gives them.</summary>
    public static IReadOnlyList<string> ConditionNames => Names;

    private readonly ProfileMapping _mapping;

    /// <summary>Per condition: the signal's index, or -1 when the rule set maps it to nothing.</summary>
    private readonly int[] _signalOf;

    /// <summary>Per signal: its rules' weights in rule order.</summary>
    private readonly double[][] _weights;

    private readonly int _hybridSignal;

    public ProfileTable(ProfileMapping mapping, IReadOnlyList<string> signals, IReadOnlyDictionary<string, Rule[]> rulesBySignal, string? hybridRequiresSignal)
    {
        _mapping = mapping;
        var index = signals.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i, StringComparer.Ordinal);
        _signalOf = Names.Select(n => mapping.SignalFor(n) is { } signal && index.TryGetValue(signal, out var i) ? i : -1).ToArray();
        _weights = signals.Select(s => rulesBySignal.TryGetValue(s, out var rules) ? rules.Select(r => r.Weight).ToArray() : []).ToArray();
        _hybridSignal = hybridRequiresSignal is not null && index.TryGetValue(hybridRequiresSignal, out var h) ? h : -1;
    }

    /// <summary>
    /// The numbers (in <see cref="ConditionNames"/>) of the conditions that hold for the facts, written into
    /// <paramref name="into"/> (at least <see cref="MostConditions"/> long); returns how many. The one place that maps
    /// facts to conditions: <see cref="Weigh"/>, <see cref="CompiledRuleSet.ClassifyProfile"/> and, by name,
    /// <see cref="FactSignals.Conditions"/> all read it, so the decision-only path and the explained one cannot disagree.
    /// </summary>
    public static int Conditions(BuyerFacts facts, ProfileMapping mapping, Span<int> into)
    {
        var count = 0;
        switch (facts.Agreement)
        {
            case AgreementState.None: into[count++] = 0; break;
            case AgreementState.Active: into[count++] = 1; break;
            case AgreementState.Ended: into[count++] = 2; break;
        }

        if (facts.Retainer is { } retainer)
        {
            into[count++] = retainer ? 3 : 4;
        }

        switch (facts.Offering)
        {
            case OfferingKind.Goods: into[count++] = 5; break;
            case OfferingKind.StandardService: into[count++] = 6; break;
            case OfferingKind.ProfessionalService: into[count++] = 7; break;
            case OfferingKind.Advice: into[count++] = 8; break;
            case OfferingKind.Mixed: into[count++] = 9; break;
        }

        if (facts.Personalised is { } personalised)
        {
            into[count++] = personalised ? 10 : 11;
        }

        if (facts.TwoWayCommunication is { } twoWay)
        {
            into[count++] = twoWay ? 12 : 13;
        }

        if (facts.PriceFocused is { } price)
        {
            into[count++] = price ? 14 : 15;
        }

        if (facts.DedicatedContact is { } contact)
        {
            into[count++] = contact ? 16 : 17;
        }

        if (facts.TrustBased is { } trust)
        {
            into[count++] = trust ? 18 : 19;
        }

        if (facts.PurchasesPerYear is { } perYear)
        {
            into[count++] = perYear <= mapping.OneOffPurchasesPerYear ? 20 : perYear >= mapping.FrequentPurchasesPerYear ? 21 : 22;
        }

        if (facts.RelationshipMonths is { } months)
        {
            into[count++] = months >= mapping.LongTenureMonths ? 23 : months <= mapping.ShortTenureMonths ? 24 : 25;
        }

        switch (facts.Market)
        {
            case MarketKind.Business: into[count++] = 26; break;
            case MarketKind.Consumer: into[count++] = 27; break;
        }

        if (facts.MonthsSinceLastContact is { } since)
        {
            if (since >= mapping.LapsedAfterMonths)
            {
                into[count++] = 28;
            }
            else if (since >= mapping.AtRiskAfterMonths)
            {
                into[count++] = 29;
            }
        }

        return count;
    }

    /// <summary>The client and customer weights of the facts, and whether the hybrid-enabling signal is among them.</summary>
    public (double Client, double Customer, bool HybridSignal) Weigh(BuyerFacts facts)
    {
        Span<int> conditions = stackalloc int[MostConditions];
        var count = Conditions(facts, _mapping, conditions);
        Span<bool> seen = stackalloc bool[_weights.Length];
        double client = 0, customer = 0;
        foreach (var condition in conditions[..count])
        {
            var signal = _signalOf[condition];
            if (signal < 0 || seen[signal])
            {
                continue;
            }

            seen[signal] = true;
            foreach (var weight in _weights[signal])
            {
                if (weight > 0)
                {
                    client += weight;
                }
                else if (weight < 0)
                {
                    customer -= weight;
                }
            }
        }

        return (client, customer, _hybridSignal >= 0 && seen[_hybridSignal]);
    }
}
