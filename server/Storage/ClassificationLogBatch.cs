namespace Advisor.Server.Storage;

/// <summary>
/// A batch of classification log entries as their queued bytes (<see cref="EncodedClassificationLogEntry"/>), taken
/// from <see cref="PendingClassificationLog"/> for a writer that binds them in place. One per log, reused batch after
/// batch by the one writer that holds the log's write lock; its buffer grows to the largest batch and stays. The buffer
/// is pinned (allocated on the pinned object heap), so a writer may give SQLite pointers into it without copies
/// (<see cref="Sqlite.RawStatement.BindPinned(int, ReadOnlySpan{byte})"/>).
/// </summary>
internal sealed class ClassificationLogBatch(int capacity = PendingClassificationLog.BlockSize)
{
    private byte[] _bytes = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);

    /// <summary>Entries in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes the entries take.</summary>
    public int Length { get; private set; }

    public void Clear() => (Count, Length) = (0, 0);

    /// <summary>Adds a copy of one encoded entry.</summary>
    public void Add(ReadOnlySpan<byte> entry) => entry.CopyTo(Reserve(entry.Length));

    /// <summary>Adds one entry given as an object, encoded in place as the queue would keep it.</summary>
    public void Add(ClassificationLogEntry entry)
    {
        var room = EncodedClassificationLogEntry.MaxEncodedSize(entry);
        var unused = room - EncodedClassificationLogEntry.Encode(entry, Reserve(room));
        Length -= unused;
    }

    /// <summary>Room for one more entry of <paramref name="size"/> bytes at the end, counted as added.</summary>
    private Span<byte> Reserve(int size)
    {
        if (_bytes.Length - Length < size)
        {
            var larger = GC.AllocateUninitializedArray<byte>(Math.Max(_bytes.Length * 2, Length + size), pinned: true);
            _bytes.AsSpan(0, Length).CopyTo(larger);
            _bytes = larger;
        }

        var room = _bytes.AsSpan(Length, size);
        Length += size;
        Count++;
        return room;
    }

    public Enumerator GetEnumerator() => new(_bytes.AsSpan(0, Length));

    /// <summary>The entries in the order they were added.</summary>
    public ref struct Enumerator(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _next;

        public EncodedClassificationLogEntry Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= _bytes.Length)
            {
                return false;
            }

            Current = new EncodedClassificationLogEntry(_bytes[_next..]);
            _next += Current.Size;
            return true;
        }
    }
}
