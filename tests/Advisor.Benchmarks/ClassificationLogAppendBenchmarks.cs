using Advisor.Server.Classification;
using Advisor.Server.Storage;
using BenchmarkDotNet.Attributes;

namespace Advisor.Benchmarks;

/// <summary>
/// What a ClassifyBuyer(description) call spends on its classification log row before the writer takes it: a
/// classification id drawn from the shared source, and the entry queued as bytes (<see cref="PendingClassificationLog"/>),
/// over the load tool's own descriptions. The queue is drained a batch at a time, as the writer does, so it never fills.
/// Each benchmark handles every description once; the figures are per description.
/// </summary>
[MemoryDiagnoser]
public class ClassificationLogAppendBenchmarks
{
    private readonly SharedIdSource _ids = new("c");
    private readonly PendingClassificationLog _queue = new(BatchedClassificationLog.QueueCapacity);
    private readonly ClassificationLogBatch _batch = new();
    private string[] _descriptions = [];
    private string _version = "";

    [GlobalSetup]
    public void Setup()
    {
        _version = SnapshotLoader.LoadShipped().Rules.Version;
        _descriptions = LoadToolDescriptions.Read();
    }

    [Benchmark(OperationsPerInvoke = DescriptionCallBenchmarks.Count, Description = "Classification id drawn")]
    public int IdDrawn()
    {
        var n = 0;
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < _descriptions.Length; i++)
        {
            n += _ids.Next(now).Length;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = DescriptionCallBenchmarks.Count, Description = "Log row: id drawn and entry queued")]
    public int EntryQueued()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var description in _descriptions)
        {
            _queue.Add(new ClassificationLogEntry(_ids.Next(now), now, "description", description, null, Kind.Client, 0.8, 2.5, _version));
        }

        if (_queue.Count >= BatchedClassificationLog.BatchSize)
        {
            _queue.Take(BatchedClassificationLog.BatchSize, _batch);
        }

        return _queue.Count;
    }
}
