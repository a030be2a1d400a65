using Advisor.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.AdvisorClient;

/// <summary>
/// Where the advisory service is: the configured address, or a server this process starts on a loopback port.
/// Started by the host (it is an <see cref="IHostedService"/>) before any request can need it.
/// </summary>
public sealed class AdvisorEndpoint(IOptions<AdvisorClientOptions> options, IConfiguration configuration, ILogger<AdvisorEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _embedded;
    private Uri? _address;

    public Uri Address => _address
        ?? (options.Value.HasServerAddress ? new Uri(options.Value.ServerAddress!) : throw new InvalidOperationException("The in-process advisory service has not started yet."));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.HasServerAddress || _embedded is not null)
        {
            return;
        }

        // Same composition as the stand-alone server, on a free loopback port, with its default SQLite file
        // (or the bot's own Storage:Path, when given). The demo buyer registry is loaded unless Demo:Seed=false,
        // so "is Acme a client?" has an answer on a fresh clone; seeding is idempotent.
        string[] args = configuration["Storage:Path"] is { Length: > 0 } storage
            ? ["--urls", "http://127.0.0.1:0", "--Storage:Path", storage]
            : ["--urls", "http://127.0.0.1:0"];
        args = [.. args, "--Demo:Seed", configuration["Demo:Seed"] is { Length: > 0 } seed ? seed : "true"];
        var embedded = AdvisorServerHost.Build(args, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            Hosting.BotHost.SkipRequestActivities(builder.Logging);
        });
        await embedded.StartAsync(cancellationToken);
        _embedded = embedded;
        _address = embedded.GetListeningAddress();
        logger.LogInformation("No Advisor:ServerAddress configured; started the advisory service in-process at {Address}", _address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_embedded is { } embedded)
        {
            await embedded.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is { } embedded)
        {
            _embedded = null;
            await embedded.DisposeAsync();
        }
    }
}
