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

    /// <summary>
    /// The hand-written text, or null when only the formatter can be sure of the spelling. Written into a buffer on the
    /// stack and copied into the one string it returns. Why: with a <see cref="StringBuilder"/> a typical profile's text cost
    /// 1,264 bytes allocated per ClassifyBuyer(profile) call (the builder, its first chunk and a second one past 160
    /// characters), 480 of them the string itself; the rest was about an eighth of such a call's server allocations.
    /// The buffer is not zeroed first (<c>SkipLocalsInit</c>): only the characters written are read, and clearing 2 KB of
    /// stack cost every ClassifyBuyer(profile) call more than writing its text.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    internal static string? TryFormat(BuyerProfile profile)
    {
        // The longest text this path writes: three numbers of at most 24 characters, ten names with their punctuation,
        // the longest enum names and an industry of at most 100 characters (longer ones go to the formatter).
        Span<char> buffer = stackalloc char[1024];
        var text = new Chars(buffer);
        text.Append('{');
        if ((profile.HasPurchasesPerYear && !Number(ref text, "purchasesPerYear", profile.PurchasesPerYear))
            || (profile.HasRelationshipMonths && !Number(ref text, "relationshipMonths", profile.RelationshipMonths))
            || (profile.Agreement != AgreementStatus.Unspecified && !EnumName(ref text, "agreement", BuyerProfile.AgreementFieldNumber, (int)profile.Agreement)))
        {
            return null;
        }

        if (profile.HasRetainer)
        {
            Flag(ref text, "retainer", profile.Retainer);
        }

        if (profile.Offering != Offering.Unspecified && !EnumName(ref text, "offering", BuyerProfile.OfferingFieldNumber, (int)profile.Offering))
        {
            return null;
        }

        if (profile.HasPersonalisedWork)
        {
            Flag(ref text, "personalisedWork", profile.PersonalisedWork);
        }

        if (profile.HasTwoWayCommunication)
        {
            Flag(ref text, "twoWayCommunication", profile.TwoWayCommunication);
        }

        if (profile.HasPriceFocused)
        {
            Flag(ref text, "priceFocused", profile.PriceFocused);
        }

        if (profile.HasDedicatedContact)
        {
            Flag(ref text, "dedicatedContact", profile.DedicatedContact);
        }

        if (profile.HasTrustBased)
        {
            Flag(ref text, "trustBased", profile.TrustBased);
        }

        if (profile.Industry.Length > 0)
        {
            if (!PlainText(profile.Industry))
            {
                return null;
            }

            Name(ref text, "industry");
            text.Append('"');
            text.Append(profile.Industry);
            text.Append('"');
        }

        if ((profile.Market != Market.Unspecified && !EnumName(ref text, "market", BuyerProfile.MarketFieldNumber, (int)profile.Market))
            || (profile.HasMonthsSinceLastContact && !Number(ref text, "monthsSinceLastContact", profile.MonthsSinceLastContact)))
        {
            return null;
        }

        text.Append(" }");
        return text.ToStringOrNull();
    }

    /// <summary>
    /// Characters appended to a fixed buffer; one that would not fit marks the text as overflowed, and the caller then
    /// leaves the profile to the formatter (<see cref="ToStringOrNull"/> is null).
    /// </summary>
    private ref struct Chars(Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;
        private int _length;
        private bool _overflowed;

        public bool First { get; set; } = true;

        public void Append(char c)
        {
            if (_length < _buffer.Length)
            {
                _buffer[_length++] = c;
            }
            else
            {
                _overflowed = true;
            }
        }

        public void Append(scoped ReadOnlySpan<char> chars)
        {
            if (chars.TryCopyTo(_buffer[_length..]))
            {
                _length += chars.Length;
            }
            else
            {
                _overflowed = true;
            }
        }

        public readonly string? ToStringOrNull() => _overflowed ? null : new string(_buffer[.._length]);
    }

    private static void Name(ref Chars text, string name)
    {
        text.Append(text.First ? " \"" : ", \"");
        text.Append(name);
        text.Append("\": ");
        text.First = false;
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static bool Number(ref Chars text, string name, double value)
    {
        // Exponents are left to the formatter, which spells them its own way (8.2e-80 where .NET writes 8.2E-80).
        Span<char> digits = stackalloc char[32];
        if (!double.IsFinite(value) || !value.TryFormat(digits, out var length, "R", CultureInfo.InvariantCulture) || digits[..length].Contains('E'))
        {
            return false;
        }

        Name(ref text, name);
        text.Append(digits[..length]);
        return true;
    }

    private static void Flag(ref Chars text, string name, bool value)
    {
        Name(ref text, name);
        text.Append(value ? "true" : "false");
    }

    private static bool EnumName(ref Chars text, string name, int fieldNumber, int value)
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

        Name(ref text, name);
        text.Append('"');
        text.Append(known);
        text.Append('"');
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
