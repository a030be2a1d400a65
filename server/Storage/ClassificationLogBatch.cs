namespace Advisor.Server.Storage;

/// <summary>
/// A batch of classification log entries as their queued bytes (<see cref="EncodedClassificationLogEntry"/>), taken
/// from <see cref="PendingClassificationLog"/> for a writer that binds them in place. One per log, reused batch after
/// batch by the one writer that holds the log's write lock; its buffer grows to the largest batch and stays.
/// </summary>
internal sealed class ClassificationLogBatch
{
    private byte[] _bytes = new byte[PendingClassificationLog.BlockSize];

    /// <summary>Entries in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes the entries take.</summary>
    public int Length { get; private set; }

    public void Clear() => (Count, Length) = (0, 0);

    /// <summary>Adds a copy of one encoded entry.</summary>
    public void Add(ReadOnlySpan<byte> entry)
    {
        if (_bytes.Length - Length < entry.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + entry.Length));
        }

        entry.CopyTo(_bytes.AsSpan(Length));
        Length += entry.Length;
        Count++;
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
