using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Advisor.Server.Storage.Sqlite;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// Many writers at once must queue, not fail: the 10-minute soak once answered INTERNAL ("database is locked") to
/// hundreds of imports because SQLite's busy handler let some writers wait past the busy timeout.
/// </summary>
public sealed class SqliteWriteGateTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "advisor-gate-" + Guid.NewGuid().ToString("N"));

    public SqliteWriteGateTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Writers_that_together_hold_the_lock_far_longer_than_the_busy_timeout_all_commit()
    {
        // Each write holds the lock for 150 ms; twelve of them take 1.8 s in a row, longer than any single write may wait
        // for SQLite's lock (busy timeout 100 ms; Microsoft.Data.Sqlite's own retry stops after 1 s).
        using var database = await OpenAsync(busyTimeoutMs: 100);
        var ct = TestContext.Current.CancellationToken;
        var writes = Enumerable.Range(0, 12).Select(i => Task.Run(() => database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO t (v) VALUES (@i)", new { i }, transaction, cancellationToken: ct));
            await Task.Delay(150, ct);
            return i;
        }, ct), ct)).ToArray();

        (await Task.WhenAll(writes)).Order().ShouldBe(Enumerable.Range(0, 12));
        (await database.ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM t", cancellationToken: ct)), ct)).ShouldBe(12);
    }

    [Fact]
    public async Task A_lock_held_by_another_process_past_the_busy_timeout_is_a_retryable_busy_error_and_nothing_is_written()
    {
        using var database = await OpenAsync(busyTimeoutMs: 100);
        var ct = TestContext.Current.CancellationToken;
        // Another connection outside the server's gate (as the command-line import would be) holds the write lock.
        await using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database.FilePath, Pooling = false }.ToString());
        await other.OpenAsync(ct);
        await using var held = (SqliteTransaction)await other.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);

        var busy = await Should.ThrowAsync<StoreBusyException>(() => database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(new CommandDefinition("INSERT INTO t (v) VALUES (1)", transaction: transaction, cancellationToken: ct)), ct));
        busy.InnerException.ShouldBeOfType<SqliteException>().SqliteErrorCode.ShouldBe(5);

        await held.RollbackAsync(ct);
        // The gate was released: the next write goes through.
        (await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("INSERT INTO t (v) VALUES (2)", transaction: transaction, cancellationToken: ct)), ct)).ShouldBe(1);
        (await database.ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM t", cancellationToken: ct)), ct)).ShouldBe(1);
    }

    [Fact]
    public async Task A_large_write_that_fails_with_its_connection_reports_its_own_error_and_the_next_write_goes_through()
    {
        // The page cache a large write asks for is put back in a finally; on a connection the work broke, that reset
        // used to throw and hide the work's own exception from the caller.
        using var database = await OpenAsync(busyTimeoutMs: 100);
        var ct = TestContext.Current.CancellationToken;
        var failure = await Should.ThrowAsync<TimeoutException>(() => database.WriteAsync<int>(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO t (v) VALUES (1)", transaction: transaction, cancellationToken: ct));
            await connection.CloseAsync();
            throw new TimeoutException("the work's own failure");
        }, cacheKibibytes: 32 * 1024, ct));
        failure.Message.ShouldBe("the work's own failure");

        (await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("INSERT INTO t (v) VALUES (2)", transaction: transaction, cancellationToken: ct)), cacheKibibytes: 32 * 1024, ct)).ShouldBe(1);
        (await database.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition("SELECT v FROM t", cancellationToken: ct)), ct)).ShouldBe([2L]);
    }

    private async Task<SqliteDatabase> OpenAsync(int busyTimeoutMs)
    {
        var database = new SqliteDatabase(Options.Create(new StorageOptions { Path = Path.Combine(_folder, "gate.db"), BusyTimeoutMs = busyTimeoutMs }));
        await database.ReadAsync(c => c.ExecuteAsync("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER NOT NULL);"), TestContext.Current.CancellationToken);
        return database;
    }
}
