using System.Globalization;
using System.Text;
using Advisor.V1;
using Google.Protobuf;

namespace Advisor.Server.Api;

/// <summary>
/// The text the classification log keeps for a typed profile: exactly what <c>JsonFormatter.Default</c> writes for
/// it, written by hand for the usual profile. Every ClassifyBuyer(profile) call logs its profile, and the formatter's
/// reflection walk was about 5 % of such a call's server CPU (profiled under the load tool). Anything the hand-written
/// path is not sure to spell the same way (an enum value without a name, a number that is not finite, an industry
/// with characters JSON may escape) goes to the formatter itself. <c>ProfileLogTextTests</c> compares the two on
/// random profiles, every field set at random through the descriptor, so a new field cannot drift unnoticed.
/// </summary>
public static class ProfileLogText
{
    private static readonly IReadOnlyList<string?> AgreementNames = ValueNames(BuyerProfile.AgreementFieldNumber);
    private static readonly IReadOnlyList<string?> OfferingNames = ValueNames(BuyerProfile.OfferingFieldNumber);
    private static readonly IReadOnlyList<string?> MarketNames = ValueNames(BuyerProfile.MarketFieldNumber);

    public static string Format(BuyerProfile profile) => TryFormat(profile) ?? JsonFormatter.Default.Format(profile);

    /// <summary>The hand-written text, or null when only the formatter can be sure of the spelling.</summary>
    internal static string? TryFormat(BuyerProfile profile)
    {
        var text = new StringBuilder(160);
        text.Append('{');
        var first = true;
        if ((profile.HasPurchasesPerYear && !Number(text, ref first, "purchasesPerYear", profile.PurchasesPerYear))
            || (profile.HasRelationshipMonths && !Number(text, ref first, "relationshipMonths", profile.RelationshipMonths))
            || (profile.Agreement != AgreementStatus.Unspecified && !EnumName(text, ref first, "agreement", BuyerProfile.AgreementFieldNumber, (int)profile.Agreement)))
        {
            return null;
        }

        if (profile.HasRetainer)
        {
            Flag(text, ref first, "retainer", profile.Retainer);
        }

        if (profile.Offering != Offering.Unspecified && !EnumName(text, ref first, "offering", BuyerProfile.OfferingFieldNumber, (int)profile.Offering))
        {
            return null;
        }

        if (profile.HasPersonalisedWork)
        {
            Flag(text, ref first, "personalisedWork", profile.PersonalisedWork);
        }

        if (profile.HasTwoWayCommunication)
        {
            Flag(text, ref first, "twoWayCommunication", profile.TwoWayCommunication);
        }

        if (profile.HasPriceFocused)
        {
            Flag(text, ref first, "priceFocused", profile.PriceFocused);
        }

        if (profile.HasDedicatedContact)
        {
            Flag(text, ref first, "dedicatedContact", profile.DedicatedContact);
        }

        if (profile.HasTrustBased)
        {
            Flag(text, ref first, "trustBased", profile.TrustBased);
        }

        if (profile.Industry.Length > 0)
        {
            if (!PlainText(profile.Industry))
            {
                return null;
            }

            Name(text, ref first, "industry").Append('"').Append(profile.Industry).Append('"');
        }

        if ((profile.Market != Market.Unspecified && !EnumName(text, ref first, "market", BuyerProfile.MarketFieldNumber, (int)profile.Market))
            || (profile.HasMonthsSinceLastContact && !Number(text, ref first, "monthsSinceLastContact", profile.MonthsSinceLastContact)))
        {
            return null;
        }

        return text.Append(" }").ToString();
    }

    private static StringBuilder Name(StringBuilder text, ref bool first, string name)
    {
        text.Append(first ? " \"" : ", \"").Append(name).Append("\": ");
        first = false;
        return text;
    }

    private static bool Number(StringBuilder text, ref bool first, string name, double value)
    {
        // Exponents are left to the formatter, which spells them its own way (8.2e-80 where .NET writes 8.2E-80).
        Span<char> digits = stackalloc char[32];
        if (!double.IsFinite(value) || !value.TryFormat(digits, out var length, "R", CultureInfo.InvariantCulture) || digits[..length].Contains('E'))
        {
            return false;
        }

        Name(text, ref first, name).Append(digits[..length]);
        return true;
    }

    private static void Flag(StringBuilder text, ref bool first, string name, bool value) =>
        Name(text, ref first, name).Append(value ? "true" : "false");

    private static bool EnumName(StringBuilder text, ref bool first, string name, int fieldNumber, int value)
    {
        var names = fieldNumber switch
        {
            BuyerProfile.AgreementFieldNumber => AgreementNames,
            BuyerProfile.OfferingFieldNumber => OfferingNames,
            _ => MarketNames,
        };
        if (value < 0 || value >= names.Count || names[value] is not { } known)
        {
            return false;
        }

        Name(text, ref first, name).Append('"').Append(known).Append('"');
        return true;
    }

    /// <summary>
    /// The enum's value names by number, read once from the descriptor (looking them up per call was a fifth of
    /// this formatter's time); null where a number has no name.
    /// </summary>
    private static IReadOnlyList<string?> ValueNames(int fieldNumber)
    {
        var values = BuyerProfile.Descriptor.FindFieldByNumber(fieldNumber).EnumType.Values;
        var names = new string?[values.Max(v => v.Number) + 1];
        foreach (var v in values.Where(v => v.Number >= 0))
        {
            names[v.Number] = v.Name;
        }

        return names;
    }

    /// <summary>Letters, digits, spaces and a few marks that no JSON writer escapes.</summary>
    private static bool PlainText(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '_' or '.' or ','))
            {
                return false;
            }
        }

        return true;
    }
}
