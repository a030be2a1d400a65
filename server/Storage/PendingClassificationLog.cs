using System.Buffers.Binary;
using Advisor.Server.Classification;

namespace Advisor.Server.Storage;

/// <summary>
/// Classification log entries waiting for their writer, kept as bytes in a few large reused blocks instead of as
/// objects, oldest first, at most <c>capacity</c> of them (past that the oldest are dropped and counted).
/// Why: the writer gathers up to 512 entries (or 50 ms) per transaction, so under load several hundred entries are
/// always waiting, and every collection of the server found them alive and promoted them: the entry, its id and its
/// input text (a whole description), three objects per call. Under the load tool 540–780 KB survived each gen0
/// collection in the ClassifyBuyer scenarios against 30–140 KB for Health/Check, with gen1 collections on top; held as
/// bytes, 390–430 KB and no gen1 (docs/benchmarks.md, "Tail latency: the two processes' collections, split"). An entry's objects die with its call;
/// the blocks are large objects that are allocated once and reused. The writer turns entries back into objects only
/// when it takes them.
/// </summary>
internal sealed class PendingClassificationLog(int capacity)
{
    /// <summary>Bytes per block: large enough to go straight to the large object heap and hold hundreds of entries.</summary>
    internal const int BlockSize = 256 * 1024;

    /// <summary>Empty blocks kept for reuse: enough for a few batches' worth of long descriptions.</summary>
    private const int SpareBlocks = 8;

    private readonly Lock _lock = new();
    private readonly Queue<Block> _blocks = new();
    private readonly Stack<byte[]> _spare = new();
    private Block? _last;
    private int _count;
    private long _dropped;

    /// <summary>Entries waiting.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Entries dropped because <c>capacity</c> were already waiting.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues a copy of <paramref name="entry"/>; returns true when the queue was empty before (the writer may be asleep).</summary>
    public bool Add(ClassificationLogEntry entry)
    {
        // Room for the longest encoding the texts could have; the entry takes what it needs of it (one pass over each text).
        var room = EncodedClassificationLogEntry.MaxEncodedSize(entry);
        lock (_lock)
        {
            if (_count == capacity)
            {
                DropOldest();
                Interlocked.Increment(ref _dropped);
            }

            var block = _last is { } last && _blocks.Count > 0 && last.Bytes.Length - last.End >= room ? last : NewBlock(room);
            block.End += EncodedClassificationLogEntry.Encode(entry, block.Bytes.AsSpan(block.End, room));
            _count++;
            return _count == 1;
        }
    }

    /// <summary>Takes up to <paramref name="max"/> entries, oldest first, as objects.</summary>
    public List<ClassificationLogEntry> Take(int max)
    {
        lock (_lock)
        {
            var taken = new List<ClassificationLogEntry>(Math.Min(max, _count));
            while (taken.Count < max && _count > 0)
            {
                var block = _blocks.Peek();
                var size = BinaryPrimitives.ReadInt32LittleEndian(block.Bytes.AsSpan(block.Start));
                taken.Add(new EncodedClassificationLogEntry(block.Bytes.AsSpan(block.Start, size)).ToEntry());
                Consume(block, size);
            }

            return taken;
        }
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> entries, oldest first, as their bytes into <paramref name="batch"/> (cleared
    /// first): a copy of each entry, no object per entry.
    /// </summary>
    public void Take(int max, ClassificationLogBatch batch)
    {
        batch.Clear();
        lock (_lock)
        {
            while (batch.Count < max && _count > 0)
            {
                var block = _blocks.Peek();
                var size = BinaryPrimitives.ReadInt32LittleEndian(block.Bytes.AsSpan(block.Start));
                batch.Add(block.Bytes.AsSpan(block.Start, size));
                Consume(block, size);
            }
        }
    }

    private void DropOldest()
    {
        var block = _blocks.Peek();
        Consume(block, BinaryPrimitives.ReadInt32LittleEndian(block.Bytes.AsSpan(block.Start)));
    }

    /// <summary>Moves past the oldest entry; a block whose entries are all gone is recycled.</summary>
    private void Consume(Block block, int size)
    {
        block.Start += size;
        _count--;
        if (block.Start == block.End)
        {
            _blocks.Dequeue();
            if (block.Bytes.Length == BlockSize && _spare.Count < SpareBlocks)
            {
                _spare.Push(block.Bytes);
            }
        }
    }

    private Block NewBlock(int size)
    {
        // An entry larger than a block (a very long input) gets a block of its own, not kept for reuse.
        var bytes = size > BlockSize ? new byte[size] : _spare.Count > 0 ? _spare.Pop() : new byte[BlockSize];
        var block = new Block(bytes);
        _blocks.Enqueue(block);
        _last = block;
        return block;
    }

    /// <summary>One block of encoded entries: those from <see cref="Start"/> to <see cref="End"/> are still waiting.</summary>
    private sealed class Block(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public int Start { get; set; }

        public int End { get; set; }
    }
}
