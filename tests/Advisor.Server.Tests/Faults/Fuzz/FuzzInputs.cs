using System.Text;
using CsCheck;
using Google.Protobuf.WellKnownTypes;

namespace Advisor.Server.Tests.Faults.Fuzz;

/// <summary>
/// Generators for hostile field values: text that breaks naive handling (control characters, bidi
/// overrides, ZWJ emoji, combining marks, lone surrogates, NULs), lengths on both sides of the
/// documented limits, enum numbers outside the contract, and numbers and times at their extremes.
/// Every generator mixes in ordinary values too, so a request also gets past the first check it meets.
/// </summary>
internal static class FuzzInputs
{
    /// <summary>The server's documented text limit (server/Errors/AdvisorErrors.cs).</summary>
    private const int TextLimit = 8192;

    /// <summary>The range of a google.protobuf.Timestamp: 0001-01-01 to 9999-12-31T23:59:59Z.</summary>
    private const long MinSeconds = -62_135_596_800;

    private const long MaxSeconds = 253_402_300_799;

    /// <summary>Small pieces that are joined into text: each is a known trouble-maker for some layer.</summary>
    private static readonly string[] Pieces =
    [
        "a", "Acme", "buyer", "retainer", "monthly", "pays per order", "price", "law firm", "every week", " ", "  ", "\t", "\n", "\r\n", "\r",
        "\0", "\u0001", "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u00a0", "\u00ad", "\u034f", "\u061c", "\u180e", "\u200b", "\u200c",
        "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u2060", "\ufeff", "\ufffd", "\ufffe", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00",
        "שלום לקוח", "عميل دائم", "\u202eevil\u202c", "e\u0301\u0301\u0301", "Z\u0335\u0321\u0322\u031b\u0317\u0318", "\U0001F600", "\U0001F44D\U0001F3FD",
        "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466", "\U0001F3F3\uFE0F\u200D\U0001F308", "\U0001F1FA\U0001F1F3", "\U000E0041",
        "\U0010FFFF", "漢字", "ｆｕｌｌｗｉｄｔｈ", "İı", "ß", "%s%n", "{0}", "${jndi:x}", "'; DROP TABLE buyers;--", "\"", "\\", "*", "%", "_",
        "../..", "<script>", "&amp;", ":", "- ", "#", "? ", "|", ">", "!!", "&a", "*a", "{", "[", "~", "null",
    ];

    private static readonly Gen<string> Piece = Gen.OneOf(Pieces);

    private static readonly Gen<string> ShortText = Piece.Array[1, 12].Select(string.Concat);

    /// <summary>Any UTF-16 code units, lone surrogates included (protobuf encodes them as U+FFFD or refuses).</summary>
    private static readonly Gen<string> RawChars = Gen.Char.Array[1, 40].Select(chars => new string(chars));

    private static readonly Gen<string> Whitespace = Gen.Char[" \t\r\n\u00a0\u2028\u3000\u200b"].Array[1, 6].Select(chars => new string(chars));

    /// <summary>Lengths just under, at and over the limits, and far over them.</summary>
    private static readonly Gen<int> LongLength = Gen.OneOf(63, 64, 65, 100, 101, 200, 201, 255, 256, 257, 1000, 1001, 4000, 8191, TextLimit, 8193, 20_000, 100_000);

    private static readonly Gen<string> LongText =
        from piece in Piece
        from length in LongLength
        select Repeat(piece, length);

    /// <summary>Free text: empty, blank, short mixtures, raw code units or very long.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (2, Gen.Const("")),
        (1, Whitespace),
        (7, ShortText),
        (3, RawChars),
        (2, LongText));

    /// <summary>A value that is usually one of <paramref name="known"/> (so deeper code runs), otherwise hostile text.</summary>
    public static Gen<string> KnownOr(IReadOnlyList<string> known) => known.Count == 0
        ? Text
        : Gen.Frequency((3, Gen.OneOf(known.ToArray())), (2, Text), (1, Gen.OneOf(known.ToArray()).Select(ShortText, (k, extra) => k + extra)));

    /// <summary>Enum numbers: mostly defined ones, but also just past the end, negative and the int extremes.</summary>
    public static Gen<T> Enum<T>()
        where T : struct, System.Enum
    {
        var defined = System.Enum.GetValues<T>().Select(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return Gen.Frequency(
            (6, Gen.OneOf(defined)),
            (1, Gen.OneOf(defined.Max() + 1, -1, int.MinValue, int.MaxValue, 1 << 20)),
            (1, Gen.Int))
            .Select(i => (T)(object)i);
    }

    /// <summary>Page sizes: valid, zero, negative, just over a maximum and the int extremes.</summary>
    public static readonly Gen<int> PageSize = Gen.Frequency(
        (3, Gen.Int[0, 60]),
        (2, Gen.OneOf(-1, int.MinValue, int.MaxValue, 25, 26, 100, 200, 201, 1000, 1001, 100_000)),
        (1, Gen.Int));

    /// <summary>Numbers for counts and amounts: NaN, infinities, negative zero, subnormals and the extremes.</summary>
    public static readonly Gen<double> Number = Gen.Frequency(
        (3, Gen.Double[-1000, 1000]),
        (2, Gen.OneOf(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, double.MinValue, 1e308, -1e-308, 0.1, 12, 1e15)),
        (1, Gen.Double));

    /// <summary>Timestamps: unset, ordinary, far past and future (year 1 and 9999), and outside what a Timestamp may hold.</summary>
    public static readonly Gen<Timestamp?> Time = Gen.Frequency(
        (2, Gen.Const(() => (Timestamp?)null)),
        (3, Gen.Int[-3650, 3650].Select(days => (Timestamp?)Timestamp.FromDateTime(DateTime.UtcNow.AddDays(days)))),
        (2, Gen.OneOf(MinSeconds, MaxSeconds, 0L, -1L, MinSeconds - 1, MaxSeconds + 1, long.MinValue, long.MaxValue)
            .Select(Gen.OneOf(0, 999_999_999, -1, 1_000_000_000, int.MinValue, int.MaxValue), (seconds, nanos) => (Timestamp?)new Timestamp { Seconds = seconds, Nanos = nanos })),
        (1, Gen.Long.Select(Gen.Int, (seconds, nanos) => (Timestamp?)new Timestamp { Seconds = seconds, Nanos = nanos })));

    /// <summary>Page tokens: none, real ones, real ones cut or altered, and forged base64 of plausible content.</summary>
    public static Gen<string> PageToken(IReadOnlyList<string> real)
    {
        var forged = Gen.OneOf("0", "-1", "99999999999999999999", "1e9", "NaN", "a|b|c", "{\"offset\":-5}", "0|0|0|0|0", "\0", "b_0|2")
            .Select(Text, (a, b) => Convert.ToBase64String(Encoding.UTF8.GetBytes(a + b)));
        var altered = real.Count == 0 ? Text : Gen.OneOf(real.ToArray()).Select(Gen.Int[0, 1000], Gen.Char, Mutate);
        return Gen.Frequency((3, Gen.Const("")), (2, real.Count == 0 ? Text : Gen.OneOf(real.ToArray())), (3, altered), (2, forged), (2, Text));
    }

    /// <summary>Changes one character of <paramref name="token"/>, or cuts it, so it is almost right.</summary>
    private static string Mutate(string token, int at, char replacement)
    {
        if (token.Length == 0)
        {
            return replacement.ToString();
        }

        var index = at % token.Length;
        return at % 3 == 0 ? token[..index] : string.Concat(token.AsSpan(0, index), replacement.ToString(), token.AsSpan(index + 1));
    }

    private static string Repeat(string piece, int length)
    {
        var text = new StringBuilder(length + piece.Length);
        while (text.Length < length)
        {
            text.Append(piece);
        }

        // Cutting at an exact length may split a surrogate pair: one more way to be malformed.
        return text.ToString(0, length);
    }
}
