using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Advisor.Server.Storage.Postgres;

/// <summary>
/// Connections to the shared PostgreSQL database. Writes run in one transaction each; the result is
/// returned only after commit, so an acknowledged write is durable on the server.
/// </summary>
public sealed class PostgresDatabase : ISqlDatabase, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresDatabase(IOptions<StorageOptions> options)
    {
        var connectionString = options.Value.ConnectionString
            ?? throw new InvalidOperationException("Storage:ConnectionString is required when Storage:Provider is postgres.");
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public NpgsqlDataSource DataSource => _dataSource;

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection);
    }

    public SqlDialect Dialect { get; } = new(RuleSetRow.Columns, ForUpdate: " FOR UPDATE");

    Task<T> ISqlDatabase.ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken) => ReadAsync(work, cancellationToken);

    Task<T> ISqlDatabase.WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) => WriteAsync(work, cancellationToken);

    public bool IsUniqueViolation(Exception exception) => exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
