using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Knowledge;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;

namespace Advisor.Server.Api;

/// <summary>Maps between domain types and advisor.v1 messages. No logic beyond the mapping.</summary>
public static class ProtoMapping
{
    public const string TopicPrefix = "topics/";

    /// <summary>
    /// Whether a caller's Timestamp is one protobuf allows (0001-01-01 to 9999-12-31, nanos 0-999,999,999):
    /// converting any other throws, so requests are checked with this first and answered INVALID_ARGUMENT.
    /// </summary>
    public static bool IsValidTime(this Timestamp time) =>
        time.Seconds is >= -62_135_596_800 and <= 253_402_300_799 && time.Nanos is >= 0 and <= 999_999_999;

    public static BuyerKind ToProto(this Kind kind) => kind switch
    {
        Kind.Client => BuyerKind.Client,
        Kind.Customer => BuyerKind.Customer,
        Kind.Hybrid => BuyerKind.Hybrid,
        _ => BuyerKind.Undetermined,
    };

    public static Kind? ToDomain(this BuyerKind kind) => kind switch
    {
        BuyerKind.Client => Kind.Client,
        BuyerKind.Customer => Kind.Customer,
        BuyerKind.Hybrid => Kind.Hybrid,
        BuyerKind.Undetermined => Kind.Undetermined,
        _ => null,
    };

    public static Stage ToProto(this StrategyStage stage) => stage switch
    {
        StrategyStage.New => Stage.New,
        StrategyStage.Active => Stage.Active,
        StrategyStage.AtRisk => Stage.AtRisk,
        StrategyStage.Lapsed => Stage.Lapsed,
        _ => Stage.Unspecified,
    };

    public static StrategyStage ToDomain(this Stage stage) => stage switch
    {
        Stage.New => StrategyStage.New,
        Stage.Active => StrategyStage.Active,
        Stage.AtRisk => StrategyStage.AtRisk,
        Stage.Lapsed => StrategyStage.Lapsed,
        _ => StrategyStage.Any,
    };

    public static V1.Intent ToProto(this QuestionIntent intent) => intent switch
    {
        QuestionIntent.Classify => V1.Intent.Classify,
        QuestionIntent.Define => V1.Intent.Define,
        QuestionIntent.Compare => V1.Intent.Compare,
        QuestionIntent.Strategy => V1.Intent.Strategy,
        QuestionIntent.Industry => V1.Intent.Industry,
        QuestionIntent.BuyerLookup => V1.Intent.BuyerLookup,
        QuestionIntent.Help => V1.Intent.Help,
        _ => V1.Intent.Unknown,
    };

    /// <param name="strategies">Where the strategies' messages are kept once built; without it they are built anew.</param>
    public static V1.Classification ToProto(this ClassifiedBuyer classified, string? classificationId = null, StrategyMessages? strategies = null)
    {
        var r = classified.Result;
        var proto = r.Decision(classificationId ?? "");
        foreach (var item in r.Evidence)
        {
            proto.Evidence.Add(item.ToProto());
        }

        proto.OpenQuestions.AddRange(r.OpenQuestions);
        foreach (var strategy in classified.Strategies)
        {
            proto.Strategies.Add(strategies is null ? strategy.ToProto() : strategies.For(strategy));
        }

        return proto;
    }

    /// <summary>
    /// The basic view of a classification (<see cref="ClassificationView.Basic"/>): the decision, its identifiers and the
    /// evidence's signal, rule, weight and source; no explanation text, spans, interaction ids, open questions or
    /// strategies. A bulk caller stores the outcome, and the left-out text was most of the answer's bytes, which both
    /// ends pay to write and read on every call.
    /// </summary>
    public static V1.Classification ToBasicProto(this ClassificationResult r, string classificationId)
    {
        var proto = r.Decision(classificationId);
        foreach (var e in r.Evidence)
        {
            proto.Evidence.Add(new Evidence { Signal = e.Signal, RuleId = e.RuleId, Weight = e.Weight, Source = e.Source });
        }

        return proto;
    }

    /// <summary>The decision's scalar fields, which both views carry.</summary>
    private static V1.Classification Decision(this ClassificationResult r, string classificationId) => new()
    {
        Kind = r.Kind.ToProto(),
        Confidence = r.Confidence,
        Score = r.Score,
        RuleSetVersion = r.RuleSetVersion,
        Summary = r.Summary,
        ClientWeight = r.ClientWeight,
        CustomerWeight = r.CustomerWeight,
        Industry = r.Industry?.Title ?? "",
        ClassificationId = classificationId,
    };

    public static Evidence ToProto(this EvidenceItem e)
    {
        var proto = new Evidence
        {
            Signal = e.Signal,
            RuleId = e.RuleId,
            Weight = e.Weight,
            Explanation = e.Explanation,
            Source = e.Source,
        };
        if (e.Span is { } span)
        {
            proto.Span = new TextSpan { Start = span.Start, End = span.End, Text = span.Text };
        }

        proto.InteractionIds.AddRange(e.InteractionIds);
        return proto;
    }

    public static V1.Strategy ToProto(this EngagementStrategy s)
    {
        var proto = new V1.Strategy
        {
            Id = s.Id,
            Title = s.Title,
            Kind = s.Kind.ToProto(),
            Stage = s.Stage.ToProto(),
            Why = s.Why,
        };
        proto.NextSteps.AddRange(s.NextSteps);
        proto.Industries.AddRange(s.Industries);
        proto.SourceTitles.AddRange(s.SourceTitles);
        return proto;
    }

    public static TopicCategory ToProto(this TopicKind kind) => kind switch
    {
        TopicKind.Definition => TopicCategory.Definition,
        TopicKind.Dimension => TopicCategory.Dimension,
        TopicKind.Industry => TopicCategory.Industry,
        _ => TopicCategory.Concept,
    };

    public static Topic ToProto(this KnowledgeTopic t, string knowledgeVersion)
    {
        var proto = new Topic
        {
            Name = TopicPrefix + t.Id,
            Category = t.Category.ToProto(),
            Title = t.Title,
            Summary = t.Summary,
            Body = t.Body,
            ClientView = t.ClientView ?? "",
            CustomerView = t.CustomerView ?? "",
            Leaning = t.Leaning?.ToString().ToLowerInvariant() ?? "",
            KnowledgeVersion = knowledgeVersion,
        };
        proto.SourceTitles.AddRange(t.SourceTitles);
        proto.RelatedTopics.AddRange(t.Related.Select(r => TopicPrefix + r));
        return proto;
    }

    public static TopicReference ToReference(this KnowledgeTopic t) => new() { Name = TopicPrefix + t.Id, Title = t.Title };

    public static BuyerFacts ToDomain(this BuyerProfile p) => new()
    {
        PurchasesPerYear = p.HasPurchasesPerYear ? p.PurchasesPerYear : null,
        RelationshipMonths = p.HasRelationshipMonths ? p.RelationshipMonths : null,
        Agreement = p.Agreement switch
        {
            AgreementStatus.None => AgreementState.None,
            AgreementStatus.Active => AgreementState.Active,
            AgreementStatus.Ended => AgreementState.Ended,
            _ => AgreementState.Unknown,
        },
        Retainer = p.HasRetainer ? p.Retainer : null,
        Offering = p.Offering switch
        {
            V1.Offering.Goods => OfferingKind.Goods,
            V1.Offering.StandardService => OfferingKind.StandardService,
            V1.Offering.ProfessionalService => OfferingKind.ProfessionalService,
            V1.Offering.Advice => OfferingKind.Advice,
            V1.Offering.Mixed => OfferingKind.Mixed,
            _ => OfferingKind.Unknown,
        },
        Personalised = p.HasPersonalisedWork ? p.PersonalisedWork : null,
        TwoWayCommunication = p.HasTwoWayCommunication ? p.TwoWayCommunication : null,
        PriceFocused = p.HasPriceFocused ? p.PriceFocused : null,
        DedicatedContact = p.HasDedicatedContact ? p.DedicatedContact : null,
        TrustBased = p.HasTrustBased ? p.TrustBased : null,
        Industry = string.IsNullOrWhiteSpace(p.Industry) ? null : p.Industry,
        Market = p.Market switch
        {
            V1.Market.B2B => MarketKind.Business,
            V1.Market.B2C => MarketKind.Consumer,
            _ => MarketKind.Unknown,
        },
        MonthsSinceLastContact = p.HasMonthsSinceLastContact ? p.MonthsSinceLastContact : null,
    };

    public static Timestamp ToTimestamp(this DateTimeOffset time) => Timestamp.FromDateTimeOffset(time);
}
