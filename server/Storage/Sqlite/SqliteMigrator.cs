using Dapper;
using Microsoft.Data.Sqlite;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// Applies the numbered SQL files embedded under Storage/Sqlite/Migrations, each once and in
/// order, each in its own transaction with its record in <c>schema_migrations</c>.
/// </summary>
public sealed class SqliteMigrator(SqliteDatabase database, ILogger<SqliteMigrator> logger) : IStoreMigrator
{
    private const string ResourcePrefix = "Advisor.Server.Storage.Sqlite.Migrations.";

    public static IReadOnlyList<Migration> Migrations() => EmbeddedMigrations.Read(typeof(SqliteMigrator).Assembly, ResourcePrefix);

    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // WAL lets readers run while one writer commits; it is a property of the file, set once.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode = WAL;", cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
                cancellationToken: cancellationToken));
        }

        var applied = 0;
        foreach (var (version, name, sql) in Migrations())
        {
            var done = await database.WriteAsync(async (connection, transaction) =>
            {
                var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, transaction, cancellationToken: cancellationToken));
                if (exists > 0)
                {
                    return false;
                }

                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @now)",
                    new { version, name, now = Ids.Timestamp(DateTimeOffset.UtcNow) }, transaction, cancellationToken: cancellationToken));
                return true;
            }, cancellationToken);
            if (done)
            {
                applied++;
                logger.LogInformation("Applied migration {Migration}", name);
            }
        }

        return applied;
    }
}
