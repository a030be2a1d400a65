using System.Text;

namespace Advisor.Server.Storage;

/// <summary>A page of results and the token for the next page (empty on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string NextPageToken);

/// <summary>
/// Opaque page tokens for keyset pagination: the sort key of the last item, base64url-encoded.
/// Clients must treat them as opaque; a token that does not decode is an invalid argument.
/// </summary>
public static class PageToken
{
    public static string Encode(params string[] keys) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Join('\u001f', keys))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A numeric key of a decoded token; <see cref="FormatException"/> (INVALID_ARGUMENT) when it is not a 64-bit number.</summary>
    public static long Number(string key) =>
        long.TryParse(key, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException("The page token is not valid.");

    /// <summary>Decodes a token into its keys; null for an empty token; throws <see cref="FormatException"/> for garbage.</summary>
    public static string[]? Decode(string? token, int keyCount)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            throw new FormatException("The page token is not valid.");
        }

        var keys = text.Split('\u001f');
        return keys.Length == keyCount ? keys : throw new FormatException("The page token is not valid.");
    }
}
