namespace Advisor.Server.Storage;

/// <summary>Identifiers: a short type prefix and a time-ordered UUIDv7, so ids sort by creation.</summary>
public static class Ids
{
    /// <summary>The layout <see cref="Timestamp"/> writes (also how it was written before it was hand-formatted).</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string New(string prefix) => prefix + "_" + Guid.CreateVersion7().ToString("N");

    /// <summary>
    /// UTC, 100 ns precision, fixed width, so the text sorts in time order. Written digit by digit: imports format two
    /// or three of these per interaction, and a custom format string is parsed again on every call.
    /// </summary>
    public static string Timestamp(DateTimeOffset time) =>
        string.Create(28, time.UtcDateTime, static (text, t) =>
        {
            Digits(text[..4], t.Year);
            text[4] = '-';
            Digits(text.Slice(5, 2), t.Month);
            text[7] = '-';
            Digits(text.Slice(8, 2), t.Day);
            text[10] = 'T';
            Digits(text.Slice(11, 2), t.Hour);
            text[13] = ':';
            Digits(text.Slice(14, 2), t.Minute);
            text[16] = ':';
            Digits(text.Slice(17, 2), t.Second);
            text[19] = '.';
            Digits(text.Slice(20, 7), (int)(t.Ticks % TimeSpan.TicksPerSecond));
            text[27] = 'Z';
        });

    public static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);

    /// <summary>Writes <paramref name="value"/> zero-padded to exactly the span's width.</summary>
    private static void Digits(Span<char> text, int value)
    {
        for (var i = text.Length - 1; i >= 0; i--)
        {
            text[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}
