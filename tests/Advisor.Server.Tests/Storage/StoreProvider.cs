using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Tests.Infrastructure;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// The server's services on one storage provider, migrated and ready, without listening: what the
/// store contract tests run against. One per test class, on a fresh database.
/// </summary>
public abstract class StoreProvider : IAsyncLifetime
{
    private WebApplication? _app;

    public IServiceProvider Services => _app!.Services;

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    protected abstract Task<string[]> SettingsAsync(CancellationToken cancellationToken);

    public async ValueTask InitializeAsync()
    {
        var settings = await SettingsAsync(TestContext.Current.CancellationToken);
        _app = AdvisorServerHost.Build([.. settings, "--Logging:LogLevel:Default", "Warning"]);
        await Get<IStoreMigrator>().MigrateAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A second, independent server process's view of the same database.</summary>
    public async Task<WebApplication> SecondServerAsync(CancellationToken cancellationToken)
    {
        var settings = await SettingsAsync(cancellationToken);
        return AdvisorServerHost.Build([.. settings, "--Logging:LogLevel:Default", "Warning"]);
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed class SqliteProvider : StoreProvider
{
    private readonly ScratchDatabase _database = new();

    protected override Task<string[]> SettingsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new[] { "--Storage:Provider", "sqlite", "--Storage:Path", _database.Path });

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}

public sealed class PostgresProvider(PostgresInstance postgres) : StoreProvider
{
    private string? _connectionString;

    protected override async Task<string[]> SettingsAsync(CancellationToken cancellationToken)
    {
        _connectionString ??= await postgres.CreateDatabaseAsync(cancellationToken);
        return ["--Storage:Provider", "postgres", "--Storage:ConnectionString", _connectionString];
    }
}
