using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Advisor.V1;

namespace Advisor.Server.Buyers;

/// <summary>Maps buyer registry records to advisor.v1 messages.</summary>
public static class BuyerMapping
{
    /// <summary>
    /// The buyer message; <paramref name="classified"/> (a fresh classification with evidence) wins over the stored
    /// summary classification, which carries kind, confidence, score, summary and rule set version only.
    /// </summary>
    public static V1.Buyer ToProto(this BuyerRecord b, ClassifiedBuyer? classified = null, DateTimeOffset? classifiedAt = null)
    {
        var proto = new V1.Buyer
        {
            Id = b.Id,
            DisplayName = b.DisplayName,
            Industry = b.Industry ?? "",
            Market = b.Market switch { MarketKind.Business => Market.B2B, MarketKind.Consumer => Market.B2C, _ => Market.Unspecified },
            ExternalId = b.ExternalId ?? "",
            Notes = b.Notes ?? "",
            CreateTime = b.CreateTime.ToTimestamp(),
            UpdateTime = b.UpdateTime.ToTimestamp(),
            Etag = b.Etag,
            InteractionCount = b.InteractionCount,
        };
        proto.Aliases.AddRange(b.Aliases);
        if (classified is not null)
        {
            proto.Classification = classified.ToProto();
            proto.ClassifyTime = (classifiedAt ?? DateTimeOffset.UtcNow).ToTimestamp();
        }
        else if (b.Classification is { } c)
        {
            proto.Classification = new V1.Classification
            {
                Kind = c.Kind.ToProto(),
                Confidence = c.Confidence,
                Score = c.Score,
                Summary = c.Summary,
                RuleSetVersion = c.RuleSetVersion,
            };
            proto.ClassifyTime = c.Time.ToTimestamp();
        }

        return proto;
    }

    public static V1.Interaction ToProto(this InteractionRecord i)
    {
        var proto = new V1.Interaction
        {
            Id = i.Id,
            BuyerId = i.BuyerId,
            Type = (V1.InteractionType)(int)i.Type,
            OccurredAt = i.OccurredAt.ToTimestamp(),
            Amount = i.Amount ?? 0,
            Currency = i.Currency ?? "",
            Channel = i.Channel ?? "",
            Note = i.Note ?? "",
            IdempotencyKey = i.IdempotencyKey ?? "",
            CreateTime = i.CreateTime.ToTimestamp(),
        };
        return proto;
    }

    public static ClassificationChange ToChange(this ClassificationHistoryRecord h)
    {
        var proto = new ClassificationChange
        {
            Id = h.Id,
            BuyerId = h.BuyerId,
            PreviousKind = h.PreviousKind?.ToProto() ?? BuyerKind.Unspecified,
            NewKind = h.Kind.ToProto(),
            ChangeTime = h.Time.ToTimestamp(),
            RuleSetVersion = h.RuleSetVersion,
            Summary = h.Summary,
        };
        proto.InteractionIds.AddRange(h.InteractionIds);
        return proto;
    }
}
