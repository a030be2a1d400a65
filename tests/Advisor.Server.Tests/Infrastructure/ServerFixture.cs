using Advisor.Server.Hosting;
using Advisor.V1;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Infrastructure;

/// <summary>
/// A real advisory server on a Kestrel loopback port with its own SQLite file, and generated
/// clients over a real HTTP/2 channel. Shared by the tests of one class.
/// </summary>
/// <remarks>Not sealed: fixtures that need other settings override <see cref="ExtraArguments"/>.</remarks>
public class ServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DatabasePath { get; } = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"), "advisor.db");

    public Uri Address { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public AdvisorService.AdvisorServiceClient Advisor => new(Channel);

    public KnowledgeService.KnowledgeServiceClient Knowledge => new(Channel);

    public RulesService.RulesServiceClient Rules => new(Channel);

    /// <summary>Extra command-line arguments for the server, for fixtures that need other settings.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Changes to the server's composition (e.g. a log capture) before it is built.</summary>
    protected virtual void Configure(WebApplicationBuilder builder)
    {
    }

    /// <summary>Settings that take work to prepare (a database to create); runs before the server starts.</summary>
    protected virtual ValueTask<IEnumerable<string>> PrepareArgumentsAsync() => ValueTask.FromResult(ExtraArguments);

    public virtual async ValueTask InitializeAsync()
    {
        var extra = await PrepareArgumentsAsync();
        _app = AdvisorServerHost.Build(
            ["--urls", "http://127.0.0.1:0", "--Storage:Path", DatabasePath, "--Logging:LogLevel:Default", "Warning", .. extra], Configure);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        Address = _app.GetListeningAddress();
        Channel = GrpcChannel.ForAddress(Address);
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow shutdown is left to the temp cleaner.
        }
    }

    /// <summary>Call options with a deadline, as every client call should have.</summary>
    public static Grpc.Core.CallOptions Deadline(double seconds = 10) =>
        new(deadline: DateTime.UtcNow.AddSeconds(seconds), cancellationToken: TestContext.Current.CancellationToken);
}
