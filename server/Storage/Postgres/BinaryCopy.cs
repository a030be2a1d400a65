using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Npgsql;

namespace Advisor.Server.Storage.Postgres;

/// <summary>
/// Rows for a <c>COPY ... FROM STDIN (FORMAT BINARY)</c>, encoded here straight into a buffer in PostgreSQL's binary
/// COPY format and sent through Npgsql's raw copy stream.
/// </summary>
/// <remarks>
/// Why not <see cref="NpgsqlBinaryImporter"/>: it binds a parameter and resolves a converter for every value it
/// writes, which made the importing client spend about as much CPU per interaction as PostgreSQL itself (a profile
/// of the import run: Npgsql's per-value Write/Bind paths on top). Here a value is a length and its bytes; only
/// three column types are needed (bigint, double precision, text), whose binary forms are big-endian 8-byte integers
/// and floats and UTF-8 text. Rows are buffered and sent 64 KiB at a time. Disposed without
/// <see cref="CompleteAsync"/>, the copy is cancelled, so a failure halfway leaves no partial rows (and the
/// surrounding transaction is rolled back anyway).
/// </remarks>
internal sealed class BinaryCopy : IAsyncDisposable
{
    private const int FlushAt = 64 * 1024;

    /// <summary>"PGCOPY\n\377\r\n\0", then 32-bit flags and header-extension length, both 0.</summary>
    private static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly NpgsqlRawCopyStream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(FlushAt + 4096);
    private int _length;
    private bool _completed;

    private BinaryCopy(NpgsqlRawCopyStream stream)
    {
        _stream = stream;
        Header.CopyTo(_buffer);
        _length = Header.Length;
    }

    /// <summary>Starts <paramref name="copyCommand"/> (a <c>COPY table (columns) FROM STDIN (FORMAT BINARY)</c>).</summary>
    public static async Task<BinaryCopy> BeginAsync(NpgsqlConnection connection, string copyCommand, CancellationToken cancellationToken) =>
        new(await connection.BeginRawBinaryCopyAsync(copyCommand, cancellationToken));

    /// <summary>Starts a row of <paramref name="columns"/> values; sends what is buffered first when it is large enough.</summary>
    public ValueTask StartRowAsync(short columns, CancellationToken cancellationToken)
    {
        if (_length < FlushAt)
        {
            WriteRowStart(columns);
            return ValueTask.CompletedTask;
        }

        return FlushThenStartAsync(columns, cancellationToken);
    }

    public void Int64(long value)
    {
        var span = Reserve(12);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteInt64BigEndian(span[4..], value);
        _length += 12;
    }

    public void Double(double? value)
    {
        if (value is not { } v)
        {
            Null();
            return;
        }

        var span = Reserve(12);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteDoubleBigEndian(span[4..], v);
        _length += 12;
    }

    public void Text(string? value)
    {
        if (value is null)
        {
            Null();
            return;
        }

        var span = Reserve(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var written = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, written);
        _length += 4 + written;
    }

    public void Null()
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);
        _length += 4;
    }

    /// <summary>Sends the rest and the end marker and ends the COPY; PostgreSQL's errors (a constraint, a type) surface here.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), -1);
        _length += 2;
        await _stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
        _length = 0;
        _completed = true;
        await _stream.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_completed)
        {
            _completed = true;
            await _stream.CancelAsync();
            await _stream.DisposeAsync();
        }

        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private async ValueTask FlushThenStartAsync(short columns, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
        _length = 0;
        WriteRowStart(columns);
    }

    private void WriteRowStart(short columns)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), columns);
        _length += 2;
    }

    /// <summary>Room for <paramref name="bytes"/> more; a row larger than the buffer (a long note) grows it.</summary>
    private Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        return _buffer.AsSpan(_length);
    }
}
