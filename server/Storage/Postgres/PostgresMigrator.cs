using Dapper;

namespace Advisor.Server.Storage.Postgres;

/// <summary>
/// Applies the numbered SQL files embedded under Storage/Postgres/Migrations. Several servers may
/// start at once: a session advisory lock makes them take turns, and each migration is applied
/// once, in order, in its own transaction with its record in <c>schema_migrations</c>.
/// </summary>
public sealed class PostgresMigrator(PostgresDatabase database, ILogger<PostgresMigrator> logger) : IStoreMigrator
{
    /// <summary>Arbitrary but fixed: the advisory lock every Advisor server takes while migrating.</summary>
    public const long MigrationLockKey = 0x41445649534f52;

    private const string ResourcePrefix = "Advisor.Server.Storage.Postgres.Migrations.";

    public static IReadOnlyList<Migration> Migrations() => EmbeddedMigrations.Read(typeof(PostgresMigrator).Assembly, ResourcePrefix);

    public Task<int> MigrateAsync(CancellationToken cancellationToken) => MigrateAsync(int.MaxValue, cancellationToken);

    /// <summary>Applies the migrations up to and including <paramref name="upToVersion"/> (tests start from an older schema with it).</summary>
    public async Task<int> MigrateAsync(int upToVersion, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = MigrationLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken: cancellationToken));
            var applied = 0;
            foreach (var (version, name, sql) in Migrations().Where(m => m.Version <= upToVersion))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, transaction, cancellationToken: cancellationToken));
                if (exists > 0)
                {
                    continue;
                }

                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @now)",
                    new { version, name, now = Ids.Timestamp(DateTimeOffset.UtcNow) }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                applied++;
                logger.LogInformation("Applied migration {Migration}", name);
            }

            return applied;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = MigrationLockKey }, cancellationToken: CancellationToken.None));
        }
    }
}
