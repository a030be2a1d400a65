using System.Text.RegularExpressions;
using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Advisor.V1;

namespace Advisor.Server.Buyers;

/// <summary>Validation of buyer and interaction input (API and CLI alike), and its mapping to store records.</summary>
public static partial class BuyerInput
{
    public const int MaxNameLength = 200;
    public const int MaxIndustryLength = 100;
    public const int MaxIdLength = 200;
    public const int MaxAliases = 20;
    public const int MaxInteractionNoteLength = 4096;
    public const int MaxChannelLength = 50;
    public const double MaxAmount = 1e13;

    /// <summary>Earliest accepted interaction time: older dates are almost always a parsing mistake.</summary>
    public static readonly DateTimeOffset EarliestTime = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far in the future an interaction may be dated (time zones and clock skew), per the contract.</summary>
    public static readonly TimeSpan FutureAllowance = TimeSpan.FromDays(1);

    public static bool IsBuyerId(string? id) => id is not null && BuyerIdPattern().IsMatch(id);

    /// <summary>A buyer id field: required, and shaped like the ids the service assigns.</summary>
    public static Violations BuyerId(this Violations violations, string? id, string field)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return violations.Add(field, "must not be empty");
        }

        return IsBuyerId(id) ? violations : violations.Add(field, "is not a buyer id (expected \"b_\" followed by 32 hexadecimal digits)");
    }

    /// <summary>Checks the writable fields of a buyer that <paramref name="fields"/> names.</summary>
    public static Violations Buyer(this Violations violations, V1.Buyer buyer, BuyerFields fields, string prefix = "buyer.")
    {
        bool Has(BuyerFields f) => (fields & f) != 0;
        if (Has(BuyerFields.DisplayName))
        {
            violations.RequireText(buyer.DisplayName, prefix + "display_name", MaxNameLength);
        }

        if (Has(BuyerFields.Industry))
        {
            violations.OptionalText(buyer.Industry, prefix + "industry", MaxIndustryLength);
        }

        if (Has(BuyerFields.Market))
        {
            violations.Enum(buyer.Market, prefix + "market");
        }

        if (Has(BuyerFields.ExternalId))
        {
            violations.OptionalText(buyer.ExternalId, prefix + "external_id", MaxIdLength);
        }

        if (Has(BuyerFields.Aliases))
        {
            if (buyer.Aliases.Count > MaxAliases)
            {
                violations.Add(prefix + "aliases", $"must have at most {MaxAliases} entries");
            }

            for (var i = 0; i < buyer.Aliases.Count; i++)
            {
                violations.RequireText(buyer.Aliases[i], $"{prefix}aliases[{i}]", MaxNameLength);
            }
        }

        if (Has(BuyerFields.Notes))
        {
            violations.OptionalText(buyer.Notes, prefix + "notes", Violations.MaxTextLength);
        }

        return violations;
    }

    public static BuyerValues ToValues(V1.Buyer buyer) => new(
        buyer.DisplayName.Trim(),
        Blank(buyer.Industry)?.Trim(),
        buyer.Market switch { Market.B2B => MarketKind.Business, Market.B2C => MarketKind.Consumer, _ => MarketKind.Unknown },
        Blank(buyer.ExternalId)?.Trim(),
        buyer.Aliases.Select(a => a.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
        Blank(buyer.Notes));

    /// <summary>Checks an interaction's own fields (not who its buyer is).</summary>
    public static Violations Interaction(this Violations violations, V1.Interaction interaction, DateTimeOffset now, string prefix = "interaction.")
    {
        if (interaction.Type == V1.InteractionType.Unspecified)
        {
            violations.Add(prefix + "type", "is required");
        }
        else if (!Enum.IsDefined(interaction.Type))
        {
            violations.Add(prefix + "type", $"{(int)interaction.Type} is not a known interaction type");
        }

        if (interaction.OccurredAt is null)
        {
            violations.Add(prefix + "occurred_at", "is required");
        }
        else if (!interaction.OccurredAt.IsValidTime() || interaction.OccurredAt.Seconds < EarliestTime.ToUnixTimeSeconds())
        {
            violations.Add(prefix + "occurred_at", $"must be a valid time after {EarliestTime:yyyy-MM-dd}");
        }
        else if (interaction.OccurredAt.ToDateTimeOffset() > now + FutureAllowance)
        {
            violations.Add(prefix + "occurred_at", "must not be more than a day in the future");
        }

        if (double.IsNaN(interaction.Amount) || double.IsInfinity(interaction.Amount) || interaction.Amount < 0 || interaction.Amount > MaxAmount)
        {
            violations.Add(prefix + "amount", "must be zero or more (and finite)");
        }

        if (interaction.Currency.Length > 0 && !CurrencyPattern().IsMatch(interaction.Currency))
        {
            violations.Add(prefix + "currency", "must be an ISO 4217 code of three capital letters, e.g. EUR");
        }

        return violations
            .OptionalText(interaction.Channel, prefix, "channel", MaxChannelLength)
            .OptionalText(interaction.Note, prefix, "note", MaxInteractionNoteLength)
            .OptionalText(interaction.IdempotencyKey, prefix, "idempotency_key", MaxIdLength);
    }

    /// <summary>Checks how an import item names its buyer: an id, an external id, or a name.</summary>
    public static Violations ImportBuyer(this Violations violations, V1.Interaction interaction, string prefix = "interaction.")
    {
        if (interaction.BuyerId.Length > 0)
        {
            return violations.BuyerId(interaction.BuyerId, prefix + "buyer_id");
        }

        if (interaction.BuyerExternalId.Length == 0 && string.IsNullOrWhiteSpace(interaction.BuyerDisplayName))
        {
            return violations.Add(prefix + "buyer_id", "name the buyer by buyer_id, buyer_external_id or buyer_display_name");
        }

        return violations
            .OptionalText(interaction.BuyerExternalId, prefix, "buyer_external_id", MaxIdLength)
            .OptionalText(interaction.BuyerDisplayName, prefix, "buyer_display_name", MaxNameLength);
    }

    /// <param name="id">The interaction's id; a new one when null (an import draws its ids from an <see cref="IdSource"/>).</param>
    public static InteractionRecord ToRecord(V1.Interaction interaction, string buyerId, DateTimeOffset now, string? id = null) => new(
        id ?? Ids.New("i"),
        buyerId,
        (InteractionKind)(int)interaction.Type,
        interaction.OccurredAt.ToDateTimeOffset(),
        interaction.Amount > 0 || interaction.Currency.Length > 0 ? interaction.Amount : null,
        Blank(interaction.Currency),
        Blank(interaction.Channel),
        Blank(interaction.Note),
        Blank(interaction.IdempotencyKey),
        now);

    public static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [GeneratedRegex("^b_[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex BuyerIdPattern();

    [GeneratedRegex("^[A-Z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CurrencyPattern();
}
