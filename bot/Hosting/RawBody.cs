namespace Advisor.Bot.Hosting;

/// <summary>Reads a request body as the exact bytes sent: signatures are verified on these, before any parsing.</summary>
public static class RawBody
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The body, or null when it is larger than <see cref="MaxBytes"/> or shorter than its Content-Length.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            return length <= MaxBytes ? await ReadExactlyAsync(request.Body, (int)length, cancellationToken) : null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Webhooks (Slack's, Discord's) send a Content-Length: read straight into an array of that size instead of
    /// growing a buffer, which was a 16 KB allocation and two copies per request.
    /// </summary>
    private static async Task<byte[]?> ReadExactlyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            var read = await body.ReadAsync(bytes.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            filled += read;
        }

        // The server ends the body at Content-Length; nothing after it belongs to this request.
        return bytes;
    }
}
