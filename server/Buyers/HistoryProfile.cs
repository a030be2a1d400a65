using Advisor.Server.Classification;
using Advisor.Server.Storage;

namespace Advisor.Server.Buyers;

/// <summary>
/// Turns a buyer's running totals (per interaction type) into the typed facts the classifier understands,
/// and each fact into a signal that cites the interactions behind it. Reads totals only: the cost does not
/// grow with the length of the history.
/// </summary>
public static class HistoryProfile
{
    private const double DaysPerMonth = 30.44;

    /// <summary>The buyer's facts and the signals they give, each with the interactions it rests on.</summary>
    public static (BuyerFacts Facts, List<SignalHit> Hits) Build(BuyerProfileData profile, ProfileMapping mapping, DateTimeOffset now)
    {
        var stats = profile.Stats.ToDictionary(s => s.Type);
        InteractionTypeStats? Get(InteractionKind kind) => stats.GetValueOrDefault(kind);
        long Count(params InteractionKind[] kinds) => kinds.Sum(k => Get(k)?.Count ?? 0);
        IEnumerable<string> Last(params InteractionKind[] kinds) => kinds.Select(Get).OfType<InteractionTypeStats>().Select(s => s.LastInteractionId);
        IEnumerable<string> FirstAndLast(params InteractionKind[] kinds) =>
            kinds.Select(Get).OfType<InteractionTypeStats>().SelectMany(s => new[] { s.FirstInteractionId, s.LastInteractionId });

        var total = profile.Stats.Sum(s => s.Count);
        var evidence = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var buyer = profile.Buyer;
        var facts = new BuyerFacts
        {
            Industry = buyer.Industry,
            Market = buyer.Market,
        };
        if (total == 0)
        {
            return (facts, Hits(facts, mapping, evidence));
        }

        var first = profile.Stats.MinBy(s => s.FirstAt)!;
        var last = profile.Stats.MaxBy(s => s.LastAt)!;

        // Agreement: whichever came last, a signature/renewal or an ending. No agreement at all only counts
        // once there is enough history for its absence to mean something.
        var signed = new[] { Get(InteractionKind.AgreementSigned), Get(InteractionKind.AgreementRenewed) }.OfType<InteractionTypeStats>().MaxBy(s => s.LastAt);
        var ended = Get(InteractionKind.AgreementEnded);
        var agreement = AgreementState.Unknown;
        if (signed is not null && (ended is null || signed.LastAt > ended.LastAt))
        {
            agreement = AgreementState.Active;
            evidence["agreement_active"] = [signed.LastInteractionId];
        }
        else if (ended is not null)
        {
            agreement = AgreementState.Ended;
            evidence["agreement_ended"] = [ended.LastInteractionId, .. signed is null ? Array.Empty<string>() : [signed.LastInteractionId]];
        }
        else if (total >= 3)
        {
            agreement = AgreementState.None;
            evidence["agreement_none"] = [last.LastInteractionId];
        }

        // What is sold: advice and professional work against goods and standard purchases.
        var advice = Count(InteractionKind.Consultation);
        var work = Count(InteractionKind.ServiceDelivered);
        var goods = Count(InteractionKind.Purchase, InteractionKind.RepeatPurchase);
        var offering = OfferingKind.Unknown;
        if (advice + work + goods > 0)
        {
            var share = (double)(advice + work) / (advice + work + goods);
            offering = share >= 0.6 ? (advice >= work ? OfferingKind.Advice : OfferingKind.ProfessionalService)
                : share <= 0.2 ? OfferingKind.Goods
                : OfferingKind.Mixed;
            var ids = Last(InteractionKind.Consultation, InteractionKind.ServiceDelivered, InteractionKind.Purchase, InteractionKind.RepeatPurchase).ToList();
            evidence["offering_advice"] = evidence["offering_professional_service"] = evidence["offering_goods"] = evidence["offering_mixed"] = ids;
        }

        // Two-way contact: meetings, consultations and messages both ways.
        var contact = Count(InteractionKind.Meeting, InteractionKind.Message, InteractionKind.Consultation);
        bool? twoWay = contact >= 3 ? true : total >= 5 && contact == 0 ? false : null;
        evidence["two_way_true"] = Last(InteractionKind.Meeting, InteractionKind.Message, InteractionKind.Consultation).ToList();
        evidence["two_way_false"] = [last.LastInteractionId];

        // Tailored work: proposals and delivered work are made for one buyer.
        var tailored = Count(InteractionKind.Proposal, InteractionKind.ServiceDelivered);
        bool? personalised = tailored > 0 ? true : null;
        evidence["personalised_true"] = Last(InteractionKind.Proposal, InteractionKind.ServiceDelivered).ToList();

        // Buying frequency over the span of the buying, at least a quarter so a burst does not look like a habit.
        double? perYear = null;
        if (goods > 0)
        {
            var purchases = new[] { Get(InteractionKind.Purchase), Get(InteractionKind.RepeatPurchase) }.OfType<InteractionTypeStats>().ToList();
            var spanYears = (purchases.Max(p => p.LastAt) - purchases.Min(p => p.FirstAt)).TotalDays / 365.25;
            perYear = goods <= 1 ? goods : goods / Math.Max(spanYears, 0.25);
            var ids = FirstAndLast(InteractionKind.Purchase, InteractionKind.RepeatPurchase).Distinct().ToList();
            evidence["one_off_purchase"] = evidence["frequent_purchases"] = evidence["occasional_purchases"] = ids;
        }

        var tenureMonths = (last.LastAt - first.FirstAt).TotalDays / DaysPerMonth;
        evidence["long_tenure"] = evidence["medium_tenure"] = evidence["short_tenure"] = new[] { first.FirstInteractionId, last.LastInteractionId }.Distinct().ToList();
        var sinceMonths = Math.Max(0, (now - last.LastAt).TotalDays / DaysPerMonth);
        evidence["lapsed"] = evidence["at_risk"] = [last.LastInteractionId];

        facts = facts with
        {
            Agreement = agreement,
            Offering = offering,
            TwoWayCommunication = twoWay,
            Personalised = personalised,
            PurchasesPerYear = perYear,
            RelationshipMonths = tenureMonths,
            MonthsSinceLastContact = sinceMonths,
        };
        return (facts, Hits(facts, mapping, evidence));
    }

    /// <summary>The text the classifier reads besides the totals: the buyer's notes and the latest interaction notes.</summary>
    public static List<SignalHit> NoteHits(BuyerProfileData profile, SignalExtractor extractor)
    {
        var hits = new List<SignalHit>();
        if (!string.IsNullOrWhiteSpace(profile.Buyer.Notes))
        {
            hits.AddRange(extractor.Extract(profile.Buyer.Notes));
        }

        foreach (var note in profile.RecentNotes)
        {
            hits.AddRange(extractor.Extract(note.Note).Select(h => h with { Source = SignalHit.FromHistory, InteractionIds = [note.InteractionId] }));
        }

        return hits;
    }

    /// <summary>The stage of the relationship, from how recently and how long the buyer has been in contact.</summary>
    public static Knowledge.StrategyStage Stage(BuyerFacts facts, ProfileMapping mapping) => facts switch
    {
        { MonthsSinceLastContact: { } since } when since >= mapping.LapsedAfterMonths => Knowledge.StrategyStage.Lapsed,
        { Agreement: AgreementState.Ended } => Knowledge.StrategyStage.Lapsed,
        { MonthsSinceLastContact: { } since } when since >= mapping.AtRiskAfterMonths => Knowledge.StrategyStage.AtRisk,
        { RelationshipMonths: { } months } when months <= mapping.ShortTenureMonths => Knowledge.StrategyStage.New,
        { RelationshipMonths: not null } => Knowledge.StrategyStage.Active,
        _ => Knowledge.StrategyStage.Any,
    };

    private static List<SignalHit> Hits(BuyerFacts facts, ProfileMapping mapping, Dictionary<string, IReadOnlyList<string>> evidence) =>
        FactSignals.Conditions(facts, mapping)
            .Select(c => (Condition: c, Signal: mapping.SignalFor(c)))
            .Where(c => c.Signal is not null)
            .Select(c => new SignalHit(c.Signal!, null, SignalHit.FromHistory, evidence.GetValueOrDefault(c.Condition) ?? []))
            .ToList();
}
