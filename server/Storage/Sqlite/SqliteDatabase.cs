using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Advisor.Server.Errors;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// Opens connections to the SQLite file with the settings every connection needs, and runs
/// writes in <c>BEGIN IMMEDIATE</c> transactions so two writers never deadlock upgrading a read lock.
/// </summary>
public sealed class SqliteDatabase : ISqlDatabase, IDisposable
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>
    /// What this class keeps per SQLite connection (the pool's handles, which outlive each <see cref="SqliteConnection"/>):
    /// whether it has this database's settings, and its prepared statements. Weak, so a connection the pool closes
    /// leaves nothing behind (its statements are finalized with it).
    /// </summary>
    private readonly ConditionalWeakTable<SQLitePCL.sqlite3, ConnectionState> _connections = new();

    /// <summary>How long a checkpoint waits for readers before it gives up until the next write (milliseconds).</summary>
    private const int CheckpointWaitMs = 200;

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

    /// <summary>
    /// Opens a connection with this database's settings. The settings are connection state that SQLite keeps for the
    /// life of the connection, and Microsoft.Data.Sqlite hands out its pooled connections as they were left (the code
    /// that changes one restores it before the connection goes back), so they are applied once per SQLite connection
    /// rather than on every open. Why: a read that opened a pooled connection prepared and ran three PRAGMA statements
    /// before its own query; for a buyer lookup in a Slack question that was six statements next to four queries
    /// (docs/benchmarks.md, "Slack slash command: prepared once").
    /// </summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        var state = State(connection);
        if (!state.Configured)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA synchronous = {_synchronous}; PRAGMA foreign_keys = ON;",
                cancellationToken: cancellationToken));
            state.Configured = true;
        }

        return connection;
    }

    /// <summary>
    /// <paramref name="sql"/> prepared on this connection's SQLite handle, prepared once and kept with the handle for the
    /// next user of the pooled connection. Why: Microsoft.Data.Sqlite prepares a command's SQL again on every execution,
    /// and for the reads of a buyer lookup (the name index catch-up, the profile's three queries) SQLite's parser and
    /// planner were most of the time spent in SQLite (docs/benchmarks.md, "Slack slash command: prepared once"). The
    /// statement is the caller's until it resets it, like the connection it belongs to.
    /// </summary>
    internal RawStatement Prepared(SqliteConnection connection, string sql)
    {
        var statements = State(connection).Statements;
        if (!statements.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(connection, sql);
            statements.Add(sql, statement);
        }

        return statement;
    }

    private ConnectionState State(SqliteConnection connection) =>
        _connections.GetValue(connection.Handle ?? throw new InvalidOperationException("The connection is not open."), static _ => new ConnectionState());

    /// <summary>Used by one caller at a time, like the connection it describes.</summary>
    private sealed class ConnectionState
    {
        public bool Configured { get; set; }

        public Dictionary<string, RawStatement> Statements { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction; the result is returned only after commit. Writers of this
    /// process queue on one async gate before <c>BEGIN IMMEDIATE</c>. Why: SQLite has a single writer, and its own busy
    /// handler is a sleep-and-poll loop without order; under a mixed load (imports, the classification log, the
    /// reclassification worker, single writes) a writer could lose every poll for the whole busy timeout and fail with
    /// "database is locked" (the 10-minute soak saw 383 of them), while the gate hands the lock over in arrival order.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, cacheKibibytes: null, cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync{T}(Func{SqliteConnection, SqliteTransaction, Task{T}}, CancellationToken)"/> with a page cache
    /// of <paramref name="cacheKibibytes"/> for this one transaction (when given): a large write needs its dirty pages in
    /// memory until the commit, or SQLite spills them to the WAL and writes them again. After the commit the connection's
    /// cache goes back to SQLite's default and its pages are freed (<c>PRAGMA shrink_memory</c>). Why: the connection
    /// returns to the pool, and a pooled connection would otherwise keep the large cache (32 MB per connection an import
    /// ever used) for the life of the process. Such a write also commits without SQLite's automatic checkpoint: the caller
    /// checkpoints (<see cref="CheckpointAsync"/>) when the WAL has grown past its own threshold.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, int? cacheKibibytes, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            if (cacheKibibytes is { } kib)
            {
                Pragma(connection, $"PRAGMA cache_size = -{kib}");
                // No automatic checkpoint at this commit: past 1,000 WAL pages SQLite would copy the whole batch into the
                // database file on the writer's time after every commit; large writes checkpoint themselves, less often.
                Pragma(connection, "PRAGMA wal_autocheckpoint = 0");
            }

            try
            {
                // Microsoft.Data.Sqlite issues BEGIN IMMEDIATE for a non-deferred transaction: the write lock is taken up front.
                // The busy timeout still covers other processes on the same file (the command-line import, a backup).
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            finally
            {
                if (cacheKibibytes is not null)
                {
                    RestoreCache(connection);
                }
            }
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            throw new StoreBusyException("The SQLite database stayed locked past the busy timeout.", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Puts a connection's page cache and automatic checkpoint back to the defaults after a large write. It runs in a
    /// <c>finally</c>, so it must not throw: when the work failed, its exception is the one the caller needs, and when it
    /// committed, the data is safe whatever happens here. A connection that cannot take the pragmas is broken, so the
    /// pool is cleared rather than let it be reused with the large cache or without automatic checkpoints.
    /// </summary>
    private static void RestoreCache(SqliteConnection connection)
    {
        try
        {
            Pragma(connection, $"PRAGMA wal_autocheckpoint = {DefaultAutoCheckpointPages}");
            Pragma(connection, $"PRAGMA cache_size = {DefaultCacheSize}");
            Pragma(connection, "PRAGMA shrink_memory");
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            SqliteConnection.ClearPool(connection);
        }
    }

    /// <summary>Size of the write-ahead log file now (0 when there is none).</summary>
    public long WalBytes => new FileInfo(FilePath + "-wal") is { Exists: true } wal ? wal.Length : 0;

    /// <summary>
    /// Copies the whole WAL into the database file and truncates it. Why: SQLite's automatic checkpoint after a commit
    /// is PASSIVE and stops at the oldest reader; with readers coming and going all the time (the reclassification
    /// worker, the name index feed) it may never catch up, and the WAL then grows without bound (5.6 GB during a
    /// 1,000,000-interaction import), which makes every page lookup search a huge WAL index. It holds the write gate
    /// (a TRUNCATE checkpoint blocks writers anyway) and waits for readers only briefly
    /// (<see cref="CheckpointWaitMs"/>), so that writers queued behind it are not held for the whole busy timeout;
    /// returns false when readers kept it from finishing, and the caller tries again after a later write.
    /// </summary>
    public async Task<bool> CheckpointAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // This connection's busy timeout changes for the checkpoint: its next open applies the settings again, so a
        // failed restore below cannot leave a pooled connection with the short timeout.
        State(connection).Configured = false;
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition($"PRAGMA busy_timeout = {CheckpointWaitMs}", cancellationToken: cancellationToken));
            // One row: busy (1 when it could not finish), frames in the WAL, frames copied.
            var (busy, _, _) = await connection.QuerySingleAsync<(long Busy, long Log, long Copied)>(new CommandDefinition(
                "PRAGMA wal_checkpoint(TRUNCATE)", cancellationToken: cancellationToken));
            return busy == 0;
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            return false;
        }
        finally
        {
            // The connection goes back to the pool: restore the busy timeout every other user expects.
            await connection.ExecuteAsync(new CommandDefinition($"PRAGMA busy_timeout = {_busyTimeoutMs}", cancellationToken: CancellationToken.None));
            _writeGate.Release();
        }
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        try
        {
            return await work(connection);
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            // In WAL mode readers wait only in rare moments (recovery after a crash, a checkpoint restarting the log).
            throw new StoreBusyException("The SQLite database stayed locked past the busy timeout.", ex);
        }
    }

    public void Dispose() => _writeGate.Dispose();

    /// <summary>SQLite's default <c>wal_autocheckpoint</c> (pages), restored after a large write turned it off.</summary>
    private const int DefaultAutoCheckpointPages = 1000;

    /// <summary>SQLite's default <c>cache_size</c> (2,000 KiB per connection).</summary>
    private const int DefaultCacheSize = -2000;

    private static void Pragma(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public SqlDialect Dialect { get; } = new(RuleSetRow.SqliteColumns, ForUpdate: "");

    Task<T> ISqlDatabase.ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken) => ReadAsync(work, cancellationToken);

    Task<T> ISqlDatabase.WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) => WriteAsync(work, cancellationToken);

    /// <summary>SQLITE_CONSTRAINT_PRIMARYKEY (1555) or SQLITE_CONSTRAINT_UNIQUE (2067).</summary>
    public bool IsUniqueViolation(Exception exception) => exception is SqliteException { SqliteExtendedErrorCode: 1555 or 2067 };

    /// <summary>SQLITE_BUSY (5) or SQLITE_LOCKED (6): another connection held a lock for longer than we would wait.</summary>
    private static bool IsBusy(SqliteException ex) => ex.SqliteErrorCode is 5 or 6;
}
