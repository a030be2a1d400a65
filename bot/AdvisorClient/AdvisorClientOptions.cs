using Microsoft.Extensions.Options;

namespace Advisor.Bot.AdvisorClient;

/// <summary>
/// Section "Advisor". A class, not a record: a record's generated ToString would print the API key
/// into any log line that formats the options.
/// </summary>
public sealed class AdvisorClientOptions
{
    public const string Section = "Advisor";

    /// <summary>gRPC address of the advisory service; empty starts it in-process on a loopback port.</summary>
    public string? ServerAddress { get; set; }

    /// <summary>Sent as "authorization: Bearer {key}" on every call when set. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Deadline of each gRPC call.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of autocomplete lookups, which must fit in the platform's 3 seconds.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(1500);

    public bool HasServerAddress => !string.IsNullOrWhiteSpace(ServerAddress);
}

public sealed class AdvisorClientOptionsValidator : IValidateOptions<AdvisorClientOptions>
{
    public ValidateOptionsResult Validate(string? name, AdvisorClientOptions options)
    {
        var failures = new List<string>();
        if (options.HasServerAddress
            && (!Uri.TryCreate(options.ServerAddress, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add("Advisor:ServerAddress must be an absolute http:// or https:// address, e.g. http://127.0.0.1:5080.");
        }

        if (options.ApiKey is { } key && (key.Length == 0 || key.Any(char.IsWhiteSpace)))
        {
            failures.Add("Advisor:ApiKey must not be empty or contain whitespace.");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("Advisor:Timeout must be between 0 and 5 minutes.");
        }

        if (options.LookupTimeout <= TimeSpan.Zero || options.LookupTimeout > TimeSpan.FromSeconds(3))
        {
            failures.Add("Advisor:LookupTimeout must be between 0 and 3 seconds.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
