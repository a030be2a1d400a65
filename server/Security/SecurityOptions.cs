using System.ComponentModel.DataAnnotations;

namespace Advisor.Server.Security;

/// <summary>Access control settings (section <c>Security</c>).</summary>
public sealed class SecurityOptions : IValidatableObject
{
    public const string Section = "Security";

    /// <summary>
    /// <c>auto</c> (default): keys are required once any key exists; with none, only loopback callers are served
    /// and the server refuses to listen on other addresses. <c>true</c>: every call needs a key.
    /// <c>false</c>: no key checks at all (only behind a proxy that authenticates callers).
    /// </summary>
    public string RequireKeys { get; set; } = "auto";

    /// <summary>
    /// How long a looked-up key is trusted before the store is asked again. A revocation on this server takes
    /// effect at once; one made on another server sharing the store takes effect here within this time.
    /// </summary>
    [Range(0, 300)]
    public int KeyCacheSeconds { get; set; } = 5;

    /// <summary>Per-key request rate limit.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    public KeyRequirement Requirement => RequireKeys.Trim().ToLowerInvariant() switch
    {
        "true" => KeyRequirement.Always,
        "false" => KeyRequirement.Never,
        _ => KeyRequirement.Auto,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RequireKeys.Trim().ToLowerInvariant() is not ("auto" or "true" or "false"))
        {
            yield return new ValidationResult("Security:RequireKeys must be auto, true or false.", [nameof(RequireKeys)]);
        }

        if (RateLimit.Enabled && (RateLimit.PermitsPerSecond <= 0 || RateLimit.PermitsPerSecond > 1_000_000 || double.IsNaN(RateLimit.PermitsPerSecond)))
        {
            yield return new ValidationResult("Security:RateLimit:PermitsPerSecond must be above 0 and at most 1000000 (set Security:RateLimit:Enabled=false to turn limits off).", ["RateLimit"]);
        }

        if (RateLimit.Enabled && (RateLimit.Burst < 1 || RateLimit.Burst > 1_000_000))
        {
            yield return new ValidationResult("Security:RateLimit:Burst must be between 1 and 1000000.", ["RateLimit"]);
        }
    }
}

/// <summary>Per-key token bucket (section <c>Security:RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    /// <summary>False turns rate limiting off (load tests).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained calls per second each key may make.</summary>
    public double PermitsPerSecond { get; set; } = 50;

    /// <summary>Calls a key may make at once after being idle (the bucket size).</summary>
    public int Burst { get; set; } = 100;
}

public enum KeyRequirement
{
    Auto,
    Always,
    Never,
}
