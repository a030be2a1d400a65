using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Advisor.Bot.Slack;

/// <summary>
/// Slack request signing: "v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")), compared in constant time,
/// with the timestamp within a window of now so a captured request cannot be replayed later.
/// </summary>
public static class SlackSignature
{
    private const string Version = "v0";

    public static bool Verify(string secret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan window)
    {
        if (string.IsNullOrEmpty(secret) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return false;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > window.TotalSeconds)
        {
            return false;
        }

        if (!signature.StartsWith(Version + "=", StringComparison.Ordinal) || signature.Length != Version.Length + 1 + 64)
        {
            return false;
        }

        byte[] provided;
        try
        {
            provided = Convert.FromHexString(signature.AsSpan(Version.Length + 1));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Compute(secret, timestamp, body), provided);
    }

    /// <summary>The header value Slack would send; used by tests and tools.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body) =>
        Version + "=" + Convert.ToHexStringLower(Compute(secret, timestamp, body));

    private static byte[] Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{Version}:{timestamp}:");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
