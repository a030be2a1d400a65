using System.Buffers.Binary;
using System.Text;
using Advisor.Server.Classification;

namespace Advisor.Server.Storage;

/// <summary>
/// One classification log entry as <see cref="PendingClassificationLog"/> keeps it while it waits for the writer: its
/// fixed fields, then its texts as UTF-8. Read in place, so that a writer storing UTF-8 (SQLite) binds the queued bytes
/// as they are instead of decoding them to strings and encoding them again.
/// </summary>
/// <remarks>
/// Layout: total size (int), time ticks (long), offset minutes (short), kind (int), confidence, score (double), then
/// id, subject, input, buyer id, rule-set version as (UTF-8 byte count or -1 for null, bytes).
/// </remarks>
internal readonly ref struct EncodedClassificationLogEntry
{
    private const int FixedSize = 4 + 8 + 2 + 4 + 8 + 8;

    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _subject;
    private readonly int _input;
    private readonly int _buyerId;
    private readonly int _ruleSetVersion;

    /// <summary>Reads the entry that starts <paramref name="bytes"/> (which may run on past it).</summary>
    public EncodedClassificationLogEntry(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes[..BinaryPrimitives.ReadInt32LittleEndian(bytes)];
        _subject = Next(_bytes, FixedSize);
        _input = Next(_bytes, _subject);
        _buyerId = Next(_bytes, _input);
        _ruleSetVersion = Next(_bytes, _buyerId);
    }

    /// <summary>Bytes the entry takes, its size field included.</summary>
    public int Size => _bytes.Length;

    /// <summary>The time in 100 ns units since 0001-01-01 UTC.</summary>
    public long UtcTicks => Ticks - (Offset * TimeSpan.TicksPerMinute);

    public DateTimeOffset Time => new(Ticks, TimeSpan.FromMinutes(Offset));

    public Kind Kind => (Kind)BinaryPrimitives.ReadInt32LittleEndian(_bytes[14..]);

    public double Confidence => BinaryPrimitives.ReadDoubleLittleEndian(_bytes[18..]);

    public double Score => BinaryPrimitives.ReadDoubleLittleEndian(_bytes[26..]);

    /// <summary>The id's UTF-8 bytes; <see cref="Text.IsNull"/> when the id was null.</summary>
    public Text Id => TextAt(FixedSize);

    public Text Subject => TextAt(_subject);

    public Text Input => TextAt(_input);

    public Text BuyerId => TextAt(_buyerId);

    public Text RuleSetVersion => TextAt(_ruleSetVersion);

    private long Ticks => BinaryPrimitives.ReadInt64LittleEndian(_bytes[4..]);

    private short Offset => BinaryPrimitives.ReadInt16LittleEndian(_bytes[12..]);

    /// <summary>The entry as an object, for a writer that takes objects.</summary>
    public ClassificationLogEntry ToEntry() =>
        new(Id.ToText()!, Time, Subject.ToText()!, Input.ToText()!, BuyerId.ToText(), Kind, Confidence, Score, RuleSetVersion.ToText()!);

    /// <summary>
    /// Bytes <paramref name="entry"/> takes encoded at most (three per UTF-16 unit of its texts): what
    /// <see cref="Encode"/> is given, so that it encodes each text once instead of counting its bytes first.
    /// </summary>
    public static int MaxEncodedSize(ClassificationLogEntry entry) =>
        FixedSize + MaxTextSize(entry.Id) + MaxTextSize(entry.Subject) + MaxTextSize(entry.Input) + MaxTextSize(entry.BuyerId) + MaxTextSize(entry.RuleSetVersion);

    /// <summary>
    /// Writes <paramref name="entry"/> at the start of <paramref name="to"/> (at least <see cref="MaxEncodedSize"/>
    /// bytes long) and returns the bytes it took. Each text is transcoded straight into place, in one pass over it: the
    /// queue held every ClassifyBuyer call's lock-free part of the log to two passes over the whole description (count,
    /// then encode), about a third of queueing an entry (perf, docs/benchmarks.md).
    /// </summary>
    public static int Encode(ClassificationLogEntry entry, Span<byte> to)
    {
        BinaryPrimitives.WriteInt64LittleEndian(to[4..], entry.Time.Ticks);
        BinaryPrimitives.WriteInt16LittleEndian(to[12..], (short)entry.Time.TotalOffsetMinutes);
        BinaryPrimitives.WriteInt32LittleEndian(to[14..], (int)entry.Kind);
        BinaryPrimitives.WriteDoubleLittleEndian(to[18..], entry.Confidence);
        BinaryPrimitives.WriteDoubleLittleEndian(to[26..], entry.Score);
        var at = FixedSize;
        at += WriteText(entry.Id, to[at..]);
        at += WriteText(entry.Subject, to[at..]);
        at += WriteText(entry.Input, to[at..]);
        at += WriteText(entry.BuyerId, to[at..]);
        at += WriteText(entry.RuleSetVersion, to[at..]);
        BinaryPrimitives.WriteInt32LittleEndian(to, at);
        return at;
    }

    private static int MaxTextSize(string? text) => 4 + (text is null ? 0 : Encoding.UTF8.GetMaxByteCount(text.Length));

    private static int WriteText(string? text, Span<byte> to)
    {
        if (text is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(to, -1);
            return 4;
        }

        var length = Encoding.UTF8.GetBytes(text, to[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(to, length);
        return 4 + length;
    }

    /// <summary>Where the text after the one at <paramref name="at"/> starts.</summary>
    private static int Next(ReadOnlySpan<byte> bytes, int at) => at + 4 + Math.Max(0, BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]));

    private Text TextAt(int at)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(_bytes[at..]);
        return length < 0 ? default : new Text(_bytes.Slice(at + 4, length));
    }

    /// <summary>A text field's UTF-8 bytes, or null (<c>default</c>).</summary>
    public readonly ref struct Text(ReadOnlySpan<byte> utf8)
    {
        private readonly bool _present = true;

        public ReadOnlySpan<byte> Utf8 { get; } = utf8;

        public bool IsNull => !_present;

        public string? ToText() => IsNull ? null : Encoding.UTF8.GetString(Utf8);
    }
}
