namespace Advisor.Server.Storage;

/// <summary>Identifiers: a short type prefix and a time-ordered UUIDv7, so ids sort by creation.</summary>
public static class Ids
{
    public static string New(string prefix) => prefix + "_" + Guid.CreateVersion7().ToString("N");

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
}
