using System.Buffers;
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

        Span<byte> provided = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(signature.AsSpan(Version.Length + 1), provided, out _, out var written) != OperationStatus.Done
            || written != provided.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(secret, timestamp, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, provided);
    }

    /// <summary>The header value Slack would send; used by tests and tools.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(secret, timestamp, body, mac);
        return Version + "=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// HMAC-SHA256 of "v0:{timestamp}:{body}" in one native call, with the signed text and the key assembled on the
    /// stack (in a pooled array for a body over a few kilobytes) instead of four arrays per request.
    /// </summary>
    private static void Compute(string secret, string timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        var keyLength = Encoding.UTF8.GetByteCount(secret);
        var prefixLength = Version.Length + Encoding.UTF8.GetByteCount(timestamp) + 2;
        var length = keyLength + prefixLength + body.Length;
        byte[]? rented = null;
        var buffer = length <= 4096 ? stackalloc byte[4096] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var key = buffer[..keyLength];
            Encoding.UTF8.GetBytes(secret, key);
            var message = buffer.Slice(keyLength, prefixLength + body.Length);
            var written = Encoding.UTF8.GetBytes(Version, message);
            message[written++] = (byte)':';
            written += Encoding.UTF8.GetBytes(timestamp, message[written..]);
            message[written++] = (byte)':';
            body.CopyTo(message[written..]);
            HMACSHA256.HashData(key, message, destination);
        }
        finally
        {
            // The key must not outlive the call in a pooled array or on the stack.
            CryptographicOperations.ZeroMemory(buffer[..keyLength]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
