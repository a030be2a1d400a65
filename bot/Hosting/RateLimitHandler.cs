using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Advisor.Bot.Hosting;

/// <summary>
/// Honours HTTP 429 from Slack (Retry-After header) and Discord (retry_after in the JSON body, or the header):
/// waits as told and sends again, a few times at most. Nothing else is retried here: a repeated chat.postMessage
/// after a 5xx could post twice, and Discord bans clients that repeat 401/403.
/// </summary>
public sealed class RateLimitHandler(TimeProvider timeProvider, ILogger<RateLimitHandler> logger) : DelegatingHandler
{
    public const int MaxRetries = 3;
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt >= MaxRetries)
            {
                return response;
            }

            var wait = await RetryAfterAsync(response, cancellationToken);
            if (wait is null || wait > MaxWait)
            {
                return response;
            }

            logger.LogWarning("Rate limited by {Host}; retrying in {Wait}", request.RequestUri?.Host, wait);
            response.Dispose();
            await Task.Delay(wait.Value, timeProvider, cancellationToken);
        }
    }

    private static async Task<TimeSpan?> RetryAfterAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var untilDate = date - DateTimeOffset.UtcNow;
            return untilDate > TimeSpan.Zero ? untilDate : TimeSpan.Zero;
        }

        // Discord: {"retry_after": 0.25, "global": false, ...}; its header is rounded up to whole seconds.
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("retry_after", out var value)
                && value.ValueKind == JsonValueKind.Number)
            {
                return TimeSpan.FromSeconds(Math.Max(0, value.GetDouble()));
            }
        }
        catch (JsonException)
        {
        }

        return response.Headers.TryGetValues("X-RateLimit-Reset-After", out var resetAfter)
            && double.TryParse(resetAfter.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(1);
    }
}
