using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Security;

/// <summary>
/// A token bucket per API key, from System.Threading.RateLimiting (the limiters ASP.NET Core rate limiting is
/// built on). It is applied in the auth interceptor rather than as HTTP middleware because the partition is the
/// authenticated key, known only after the key is checked, and because a gRPC caller must get RESOURCE_EXHAUSTED
/// with a google.rpc.RetryInfo, not an HTTP 429.
/// </summary>
public sealed class KeyRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly TimeSpan _fallbackDelay;

    public KeyRateLimiter(IOptions<SecurityOptions> options)
    {
        var limits = options.Value.RateLimit;
        if (!limits.Enabled)
        {
            return;
        }

        // Refill often for high rates (smooth), once per token for low ones (TokensPerPeriod must be a whole number).
        var (period, tokens) = limits.PermitsPerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), (int)Math.Round(limits.PermitsPerSecond / 10))
            : (TimeSpan.FromSeconds(1 / limits.PermitsPerSecond), 1);
        _fallbackDelay = period;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Takes one permit for <paramref name="keyId"/>; null when allowed, else how long to wait before retrying.</summary>
    public TimeSpan? TryAcquire(string keyId)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(keyId);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : _fallbackDelay;
    }

    public void Dispose() => _limiter?.Dispose();
}
