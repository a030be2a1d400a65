using System.Net;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Security;

/// <summary>The server would be open to the network; the message says how to fix it.</summary>
public sealed class SecurityStartupException(string message) : Exception(message);

/// <summary>
/// The safe default, checked before Kestrel listens (hosted services start first, after migrations): with no
/// usable API key, the server serves loopback addresses only and refuses to start on any other address.
/// </summary>
public sealed partial class SecurityStartupCheck(
    IConfiguration configuration,
    ApiKeyService keys,
    IOptions<SecurityOptions> options,
    ILogger<SecurityStartupCheck> logger) : IHostedService
{
    public const string HowToCreateKey =
        "Create an admin key with 'dotnet run --project server -- keys create --name admin --role admin' (with the same --Storage settings as the server), " +
        "or listen on 127.0.0.1 only, or set Security:RequireKeys=false if a proxy in front of the server authenticates every caller.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var exposed = ListenAddresses(configuration).Where(a => !IsLoopback(a)).ToList();
        var requirement = options.Value.Requirement;
        if (requirement == KeyRequirement.Never)
        {
            if (exposed.Count > 0)
            {
                LogOpen(logger, string.Join(", ", exposed));
            }

            return;
        }

        var anyKey = await keys.AnyActiveAsync(cancellationToken);
        if (!anyKey && exposed.Count > 0 && requirement == KeyRequirement.Auto)
        {
            throw new SecurityStartupException(
                $"Advisor will not listen on {string.Join(", ", exposed)} without API keys: anyone who can reach it could call every method. {HowToCreateKey}");
        }

        if (!anyKey && requirement == KeyRequirement.Always)
        {
            LogNoKeys(logger);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every address the configuration asks Kestrel to listen on: --urls / ASPNETCORE_URLS and Kestrel:Endpoints:*:Url.</summary>
    public static IReadOnlyList<string> ListenAddresses(IConfiguration configuration)
    {
        var addresses = new List<string>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                addresses.Add(url);
            }
        }

        if (addresses.Count == 0)
        {
            var urls = configuration["urls"];
            addresses.AddRange(string.IsNullOrWhiteSpace(urls)
                ? [Hosting.AdvisorServerHost.DefaultUrl]
                : urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return addresses;
    }

    /// <summary>localhost and loopback IPs only; wildcards (*, +, 0.0.0.0, [::]) and host names reach the network.</summary>
    public static bool IsLoopback(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        var host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']', StringComparison.Ordinal))] : rest.Split(':', '/')[0];
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Security:RequireKeys is false and the server listens on {Addresses}: every caller that can reach it may call every method")]
    private static partial void LogOpen(ILogger logger, string addresses);

    [LoggerMessage(EventId = 52, Level = LogLevel.Warning, Message = "Security:RequireKeys is true but no usable API key exists: every call will be refused until one is created")]
    private static partial void LogNoKeys(ILogger logger);
}
