using System.Data;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// Opens connections to the SQLite file with the settings every connection needs, and runs
/// writes in <c>BEGIN IMMEDIATE</c> transactions so two writers never deadlock upgrading a read lock.
/// </summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly int _busyTimeoutMs;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var value = options.Value;
        var full = System.IO.Path.GetFullPath(value.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        FilePath = full;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, value.BusyTimeoutMs / 1000),
        }.ToString();
        _synchronous = value.Synchronous;
        _busyTimeoutMs = value.BusyTimeoutMs;
    }

    public string FilePath { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA synchronous = {_synchronous}; PRAGMA foreign_keys = ON;",
            cancellationToken: cancellationToken));
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction; the result is returned only after commit.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Microsoft.Data.Sqlite issues BEGIN IMMEDIATE for a non-deferred transaction: the write lock is taken up front.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Size of the write-ahead log file now (0 when there is none).</summary>
    public long WalBytes => new FileInfo(FilePath + "-wal") is { Exists: true } wal ? wal.Length : 0;

    /// <summary>
    /// Copies the whole WAL into the database file and truncates it, waiting (up to the busy timeout) for the readers of
    /// the moment to finish. Why: SQLite's automatic checkpoint after a commit is PASSIVE and stops at the oldest
    /// reader; with readers coming and going all the time (the reclassification worker, the name index feed) it may
    /// never catch up, and the WAL then grows without bound (5.6 GB during a 1,000,000-interaction import), which makes
    /// every page lookup search a huge WAL index. Returns false when readers or a writer kept it from finishing.
    /// </summary>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // One row: busy (1 when it could not finish), frames in the WAL, frames copied.
        var (busy, _, _) = await connection.QuerySingleAsync<(long Busy, long Log, long Copied)>(new CommandDefinition(
            "PRAGMA wal_checkpoint(TRUNCATE)", cancellationToken: cancellationToken));
        return busy == 0;
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection);
    }
}
