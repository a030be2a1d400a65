using System.Threading.Channels;
using Advisor.Server.Classification;
using Dapper;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// Queues classification log entries and writes them in batches, one transaction per batch,
/// so classifying never waits for the disk. When the queue is full the oldest entries are
/// dropped and counted rather than slowing requests down.
/// </summary>
public sealed class SqliteClassificationLog : BackgroundService, IClassificationLog
{
    private const int BatchSize = 512;
    private readonly SqliteDatabase _database;
    private readonly ILogger<SqliteClassificationLog> _logger;
    private readonly Channel<ClassificationLogEntry> _queue;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _droppedCount;

    public SqliteClassificationLog(SqliteDatabase database, ILogger<SqliteClassificationLog> logger)
    {
        _database = database;
        _logger = logger;
        _queue = Channel.CreateBounded<ClassificationLogEntry>(
            new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _droppedCount));
    }

    public long Dropped => Interlocked.Read(ref _droppedCount);

    public void Append(ClassificationLogEntry entry) => _queue.Writer.TryWrite(entry);

    public async Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        var rows = await _database.ReadAsync(connection => connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT id, time, subject, input, buyer_id AS BuyerId, kind, confidence, score, rule_set_version AS RuleSetVersion FROM classification_log ORDER BY time DESC, id DESC LIMIT @count",
            new { count }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => new ClassificationLogEntry(r.Id, Ids.ParseTimestamp(r.Time), r.Subject, r.Input, r.BuyerId,
            Enum.Parse<Kind>(r.Kind, ignoreCase: true), r.Confidence, r.Score, r.RuleSetVersion)).ToList();
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = new List<ClassificationLogEntry>();
        while (_queue.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
        }

        await WriteAsync(batch, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ClassificationLogEntry>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchSize && _queue.Reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }

                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync flushes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task WriteAsync(List<ClassificationLogEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _database.WriteAsync(async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT OR IGNORE INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES (@Id, @Time, @Subject, @Input, @BuyerId, @Kind, @Confidence, @Score, @RuleSetVersion)",
                    batch.Select(e => new
                    {
                        e.Id,
                        Time = Ids.Timestamp(e.Time),
                        e.Subject,
                        e.Input,
                        e.BuyerId,
                        Kind = e.Kind.ToString().ToLowerInvariant(),
                        e.Confidence,
                        e.Score,
                        e.RuleSetVersion,
                    }),
                    transaction, cancellationToken: cancellationToken));
                return 0;
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "Could not write {Count} classification log entries", batch.Count);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private sealed record Row(string Id, string Time, string Subject, string Input, string? BuyerId, string Kind, double Confidence, double Score, string RuleSetVersion);
}
