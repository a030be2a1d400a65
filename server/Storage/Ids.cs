using System.Buffers.Binary;
namespace Advisor.Server.Storage;

/// <summary>Identifiers: a short type prefix and a time-ordered UUIDv7, so ids sort by creation.</summary>
public static class Ids
{
    /// <summary>The layout <see cref="Timestamp"/> writes (also how it was written before it was hand-formatted).</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string New(string prefix) => Format(prefix, Guid.CreateVersion7());

    /// <summary><paramref name="prefix"/>, an underscore and the 32 hex digits of <paramref name="id"/> (its "N" text), in one allocation.</summary>
    public static string Format(string prefix, Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Format(prefix, BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>
    /// <paramref name="prefix"/>, an underscore and the 32 hex digits of a UUID given as its two halves, big-endian as its
    /// text reads: what <see cref="Format(string, Guid)"/> writes for the Guid of those bytes, for a caller that has the
    /// halves and need not build the Guid (<see cref="IdSource"/>).
    /// </summary>
    public static string Format(string prefix, ulong high, ulong low) =>
        string.Create(prefix.Length + 33, (prefix, high, low), static (text, state) =>
        {
            state.prefix.CopyTo(text);
            text[state.prefix.Length] = '_';
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, state.high);
            BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], state.low);
            _ = Convert.TryToHexStringLower(bytes, text[(state.prefix.Length + 1)..], out _);
        });

    /// <summary>
    /// UTC, 100 ns precision, fixed width, so the text sorts in time order. Written digit by digit: imports format two
    /// or three of these per interaction, and a custom format string is parsed again on every call.
    /// </summary>
    public static string Timestamp(DateTimeOffset time) =>
        string.Create(28, time.UtcDateTime, static (text, t) =>
        {
            Digits(text[..4], t.Year);
            text[4] = '-';
            Digits(text.Slice(5, 2), t.Month);
            text[7] = '-';
            Digits(text.Slice(8, 2), t.Day);
            text[10] = 'T';
            Digits(text.Slice(11, 2), t.Hour);
            text[13] = ':';
            Digits(text.Slice(14, 2), t.Minute);
            text[16] = ':';
            Digits(text.Slice(17, 2), t.Second);
            text[19] = '.';
            Digits(text.Slice(20, 7), (int)(t.Ticks % TimeSpan.TicksPerSecond));
            text[27] = 'Z';
        });

    public static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);

    /// <summary>Writes <paramref name="value"/> zero-padded to exactly the span's width.</summary>
    private static void Digits(Span<char> text, int value)
    {
        for (var i = text.Length - 1; i >= 0; i--)
        {
            text[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}

/// <summary>
/// Draws ids of the same shape as <see cref="Ids.New"/> (a prefix and a UUIDv7) for one bulk operation, reading the
/// random bits from the system's secure generator 16 KB (1,638 ids or more) at a time. Why: <see cref="Guid.CreateVersion7()"/> asks the
/// system for 16 random bytes on every call (a read of /dev/urandom on Linux), which cost an import a few percent of its
/// CPU when every interaction needs an id. One instance per import call, used by one thread at a time.
/// </summary>
public sealed class IdSource(string prefix, bool monotonic = false)
{
    /// <summary>Random bytes read from the system at a time: 10 per id at most (1,638 ids), 4 for most monotonic ones.</summary>
    private const int RandomBytes = 1024 * 16;

    /// <summary>The 62 random bits after the variant (rand_b in RFC 9562).</summary>
    private const ulong RandBMask = (1UL << 62) - 1;

    private readonly byte[] _random = new byte[RandomBytes];
    private int _used = RandomBytes;

    // The last id's parts, for monotonic ids: milliseconds, rand_a (12 bits) and rand_b (62 bits).
    private long _lastMs = long.MinValue;
    private int _lastA;
    private ulong _lastB;

    /// <summary>
    /// A new id whose time part is <paramref name="now"/> (milliseconds since the Unix epoch, as UUIDv7 has it). For a
    /// monotonic source, an id in the same millisecond as the last one (or an earlier one: the clock went back) keeps
    /// the last one's time and rand_a and adds 1 plus 32 random bits to its rand_b (RFC 9562, 6.2, method 2), so every
    /// id sorts after the one before it and the next one still cannot be told from the last. Each id takes only the
    /// random bytes it uses (10 for fresh rand_a and rand_b, 4 for a step): a server mints a couple of dozen ids per
    /// millisecond under load, nearly all of them steps, and drawing 16 bytes for each made the secure generator most
    /// of an id's cost (perf, docs/benchmarks.md "ClassifyBuyer(description) outside classification").
    /// </summary>
    public string Next(DateTimeOffset now)
    {
        var ms = now.ToUnixTimeMilliseconds();
        int a;
        ulong b;
        if (monotonic && ms <= _lastMs)
        {
            ms = _lastMs;
            a = _lastA;
            var step = 1 + (ulong)BinaryPrimitives.ReadUInt32BigEndian(Random(4));
            if (_lastB <= RandBMask - step)
            {
                b = _lastB + step;
            }
            else
            {
                // rand_b is used up: a fresh rand_b from the lower half, so that it has room again, and the next rand_a;
                // when both are used up (2^74 ids in one millisecond cannot happen) the next millisecond, keeping the order even so.
                b = (BinaryPrimitives.ReadUInt64BigEndian(Random(8)) & RandBMask) >> 1;
                (ms, a) = _lastA < 0x0FFF ? (ms, _lastA + 1) : (_lastMs + 1, 0);
            }
        }
        else
        {
            var random = Random(10);
            a = BinaryPrimitives.ReadUInt16BigEndian(random) & 0x0FFF;
            b = BinaryPrimitives.ReadUInt64BigEndian(random[2..]) & RandBMask;
        }

        if (monotonic)
        {
            (_lastMs, _lastA, _lastB) = (ms, a, b);
        }

        // The UUID's two halves: unix_ts_ms (48 bits), version 7, rand_a; the RFC 9562 variant, rand_b. Written as hex
        // without building the Guid they make.
        return Ids.Format(prefix, ((ulong)ms << 16) | 0x7000UL | (uint)a, b | (0x2UL << 62));
    }

    /// <summary>The next <paramref name="count"/> unused random bytes, refilling the buffer from the secure generator when too few are left.</summary>
    private ReadOnlySpan<byte> Random(int count)
    {
        if (RandomBytes - _used < count)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(_random);
            _used = 0;
        }

        _used += count;
        return _random.AsSpan(_used - count, count);
    }
}

/// <summary>
/// An <see cref="IdSource"/> that any number of threads may share: one per kind of id a server mints on every call
/// (classification ids, one per ClassifyBuyer or classifying Ask). Why: <see cref="Ids.New"/> costs a system call per
/// id for its random bits, about 1.7 % of a ClassifyBuyer call's server CPU under the load tool (perf); the lock is
/// held for a copy of 16 bytes, and for one secure-random read per 1,024 ids. Its ids are monotonic: each sorts after
/// the one before. Why: they are the classification log's primary key, and ids in random order within a millisecond
/// (20 or so at full load) made SQLite insert into the middle of the key's index and split its pages; in order, the
/// log's CPU per row fell by about a quarter (docs/benchmarks.md, "ClassifyBuyer: what the classification log costs per
/// call").
/// </summary>
public sealed class SharedIdSource(string prefix)
{
    private readonly IdSource _source = new(prefix, monotonic: true);
    private readonly Lock _lock = new();

    /// <summary>A new id whose time part is <paramref name="now"/>.</summary>
    public string Next(DateTimeOffset now)
    {
        lock (_lock)
        {
            return _source.Next(now);
        }
    }
}
