using System.Collections.Concurrent;
using Advisor.Server.Security;
using Advisor.Server.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Advisor.Server.Tests.Security;

/// <summary>
/// A real server that requires keys, with one key per role and every log line it writes captured (at Trace level,
/// the most it can say) so tests can check that no secret ever reaches a log.
/// </summary>
public class SecuredServerFixture : ServerFixture
{
    public ConcurrentQueue<string> Logs { get; } = new();

    public string ReaderKey { get; private set; } = "";

    public string WriterKey { get; private set; } = "";

    public string AdminKey { get; private set; } = "";

    protected virtual IEnumerable<string> Limits => ["--Security:RateLimit:PermitsPerSecond", "10000", "--Security:RateLimit:Burst", "10000"];

    protected override IEnumerable<string> ExtraArguments =>
        ["--Security:RequireKeys", "true", "--Logging:LogLevel:Default", "Trace", "--Logging:LogLevel:Microsoft", "Trace", .. Limits];

    public ApiKeyService Keys => Services.GetRequiredService<ApiKeyService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        ReaderKey = (await Keys.CreateAsync("reader-" + Guid.NewGuid().ToString("N")[..6], Role.Reader, null, "tests", TestContext.Current.CancellationToken)).Secret;
        WriterKey = (await Keys.CreateAsync("writer-" + Guid.NewGuid().ToString("N")[..6], Role.Writer, null, "tests", TestContext.Current.CancellationToken)).Secret;
        AdminKey = (await Keys.CreateAsync("admin-" + Guid.NewGuid().ToString("N")[..6], Role.Admin, null, "tests", TestContext.Current.CancellationToken)).Secret;
    }

    /// <summary>Call options with a deadline and, when given, the key as a bearer token.</summary>
    public static CallOptions With(string? key, double seconds = 30)
    {
        var headers = new Metadata();
        if (key is not null)
        {
            headers.Add("authorization", "Bearer " + key);
        }

        return new CallOptions(headers, DateTime.UtcNow.AddSeconds(seconds), TestContext.Current.CancellationToken);
    }

    protected override void Configure(WebApplicationBuilder builder) =>
        builder.Logging.AddProvider(new CaptureProvider(Logs));

    private sealed class CaptureProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CaptureLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class CaptureLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}

/// <summary>The same, with a tight per-key rate limit: a burst of 2, then one call per 10 seconds.</summary>
public sealed class RateLimitedServerFixture : SecuredServerFixture
{
    protected override IEnumerable<string> Limits => ["--Security:RateLimit:PermitsPerSecond", "0.1", "--Security:RateLimit:Burst", "2"];
}
