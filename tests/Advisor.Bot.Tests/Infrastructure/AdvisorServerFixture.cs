using Advisor.Bot.Tests.Infrastructure;
using Advisor.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

[assembly: AssemblyFixture(typeof(AdvisorServerFixture))]

namespace Advisor.Bot.Tests.Infrastructure;

/// <summary>One real advisory server on a loopback port for the whole test assembly, with its own SQLite file.</summary>
public sealed class AdvisorServerFixture : IAsyncLifetime
{
    private readonly string _storage = Path.Combine(Path.GetTempPath(), $"advisor-bot-tests-{Guid.NewGuid():N}.db");
    private WebApplication? _server;

    public Uri Address { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _server = AdvisorServerHost.Build(
            ["--urls", "http://127.0.0.1:0", "--Storage:Path", _storage],
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await _server.StartAsync(TestContext.Current.CancellationToken);
        Address = _server.GetListeningAddress();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(CancellationToken.None);
            await _server.DisposeAsync();
        }

        foreach (var file in new[] { _storage, _storage + "-wal", _storage + "-shm" })
        {
            File.Delete(file);
        }
    }
}
