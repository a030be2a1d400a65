using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// A statement prepared directly on a connection's SQLite handle, bound and stepped without Microsoft.Data.Sqlite's
/// command machinery. Why: the import path runs three statements per interaction, and a <see cref="SqliteCommand"/>
/// execution costs several microseconds on its own (a data reader per call, parameter type dispatch, the SQL split into
/// statements, text copied to a new UTF-8 array per value), which profiled at about half of the import's CPU per item
/// (docs/benchmarks.md, "Registry"). Statements run inside whatever transaction the connection has open; errors
/// surface as <see cref="SqliteException"/> like any other call, so busy and constraint handling are unchanged.
/// Parameters are bound by position (<c>?1</c>, <c>?2</c>, ...; named ones are numbered in order of first appearance). Not thread-safe, like the connection it belongs to.
/// </summary>
internal sealed partial class RawStatement : IDisposable
{
    private const int Row = 100;
    private const int Done = 101;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    /// <summary>The statement's native pointer, for <see cref="BindPinned(int, ReadOnlySpan{byte})"/>; valid until <see cref="Dispose"/>.</summary>
    private readonly nint _handle;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
        _handle = _statement.DangerousGetHandle();
    }

    /// <summary>
    /// Binds UTF-8 text that SQLite does not copy (<c>SQLITE_STATIC</c>), through the library directly: the bytes must
    /// stay where they are (a pinned array, or data of the assembly) until the statement has run in
    /// <see cref="ExecuteAndClearBindings"/>, which leaves no pointer to them behind. An empty span cut from such
    /// memory binds the empty text; only <c>default</c> would bind NULL. Why: the classification log binds six texts per
    /// row on every ClassifyBuyer call, and a copied text is a <c>malloc</c>, a copy and a <c>free</c> inside SQLite,
    /// with SQLitePCL's handle reference counted around every call (docs/benchmarks.md, "The classification log's cost
    /// per row"). Not for values in memory the GC may move.
    /// </summary>
    public unsafe void BindPinned(int index, ReadOnlySpan<byte> pinnedUtf8) =>
        Check(NativeBindText(_handle, index, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(pinnedUtf8)), pinnedUtf8.Length, 0));

    /// <summary>A number for a statement bound with <see cref="BindPinned(int, ReadOnlySpan{byte})"/>, through the library directly.</summary>
    public void BindPinned(int index, double value) => Check(NativeBindDouble(_handle, index, value));

    /// <inheritdoc cref="BindPinned(int, double)"/>
    public void BindPinned(int index, long value) => Check(NativeBindInt64(_handle, index, value));

    /// <summary>NULL for a statement bound with <see cref="BindPinned(int, ReadOnlySpan{byte})"/>, through the library directly.</summary>
    public void BindPinnedNull(int index) => Check(NativeBindNull(_handle, index));

    /// <summary><see cref="Execute"/>, then every parameter unbound, so that the statement keeps no pointer to pinned bytes.</summary>
    public int ExecuteAndClearBindings()
    {
        try
        {
            return Execute();
        }
        finally
        {
            _ = NativeClearBindings(_handle);
        }
    }

    // The library SQLitePCL loads (bundle_e_sqlite3), called directly with the statement's pointer.
    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_bind_text")]
    private static unsafe partial int NativeBindText(nint statement, int index, byte* text, int length, nint destructor);

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_bind_double")]
    private static partial int NativeBindDouble(nint statement, int index, double value);

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_bind_int64")]
    private static partial int NativeBindInt64(nint statement, int index, long value);

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_bind_null")]
    private static partial int NativeBindNull(nint statement, int index);

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_clear_bindings")]
    private static partial int NativeClearBindings(nint statement);

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    public void Bind(int index, double? value) =>
        Check(value is { } v ? raw.sqlite3_bind_double(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));

    /// <summary>
    /// Binds text as UTF-8, encoded on the stack for short values. Why: the file is UTF-8, and text bound as UTF-16 is
    /// converted by SQLite when the row is built, with a <c>malloc</c> and a <c>free</c> for every value (after SQLite
    /// has already copied the UTF-16 once); an import binds five texts per row (docs/benchmarks.md, "SQLite import:
    /// the writer after the fold"). SQLite copies the bytes (<c>SQLITE_TRANSIENT</c>), so the buffer may go at once.
    /// The empty string keeps the UTF-16 binding: an empty span has no address, and a null one would bind NULL.
    /// </summary>
    /// <remarks>
    /// Locals are not zeroed: the stack buffer is written before it is read, and zeroing its 768 bytes on every text bound
    /// (six per classification log row) was a visible share of the log writer's CPU under the load tool (perf: the
    /// writer's hottest instruction).
    /// </remarks>
    [SkipLocalsInit]
    public void Bind(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
        }
        else if (value.Length == 0)
        {
            Check(raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));
        }
        else if (value.Length <= StackTextChars)
        {
            Span<byte> buffer = stackalloc byte[StackTextChars * 3];
            var length = Encoding.UTF8.GetBytes(value, buffer);
            Check(raw.sqlite3_bind_text(_statement, index, buffer[..length]));
        }
        else
        {
            // Long text (a description in the classification log) is encoded into a pooled buffer: SQLite copies it.
            var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
            try
            {
                var length = Encoding.UTF8.GetBytes(value, buffer);
                Check(raw.sqlite3_bind_text(_statement, index, buffer.AsSpan(0, length)));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Binds text that is already UTF-8 (SQLite copies it). An empty text is bound as the empty string, like
    /// <see cref="Bind(int, string?)"/>: an empty span has no address, and a null one would bind NULL.
    /// </summary>
    public void BindUtf8(int index, ReadOnlySpan<byte> utf8) =>
        Check(utf8.IsEmpty ? raw.sqlite3_bind_text16(_statement, index, string.Empty.AsSpan()) : raw.sqlite3_bind_text(_statement, index, utf8));

    public void Bind(int index, double value) => Check(raw.sqlite3_bind_double(_statement, index, value));

    public void BindNull(int index) => Check(raw.sqlite3_bind_null(_statement, index));

    /// <summary>Text up to this many UTF-16 units is encoded on the stack (at most three UTF-8 bytes each).</summary>
    private const int StackTextChars = 256;

    /// <summary>Runs the statement to completion and resets it for the next binding; the number of rows it changed.</summary>
    public int Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        while (rc == Row)
        {
            rc = raw.sqlite3_step(_statement);
        }

        if (rc != Done)
        {
            Fail(rc);
        }

        var changed = raw.sqlite3_changes(_db);
        raw.sqlite3_reset(_statement);
        return changed;
    }

    /// <summary>The first column of the first row as an integer, or null when there is no row or it is NULL; resets the statement.</summary>
    public long? ScalarInt64()
    {
        var rc = raw.sqlite3_step(_statement);
        long? value = null;
        if (rc == Row)
        {
            value = raw.sqlite3_column_type(_statement, 0) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(_statement, 0);
        }
        else if (rc != Done)
        {
            Fail(rc);
        }

        raw.sqlite3_reset(_statement);
        return value;
    }

    /// <summary>
    /// Runs a query and reads every row with <paramref name="read"/> (through the column methods), then resets the
    /// statement however the read ended: a statement kept prepared on a pooled connection must not hold a read open
    /// for the connection's next user. The bindings stay for the next run.
    /// </summary>
    public List<T> ReadAll<T>(Func<RawStatement, T> read)
    {
        var rows = new List<T>();
        ForEach(row => rows.Add(read(row)));
        return rows;
    }

    /// <summary><see cref="ReadAll{T}"/> for a reader that keeps what it needs itself (no list of rows).</summary>
    public void ForEach(Action<RawStatement> read)
    {
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == Row)
            {
                read(this);
            }

            if (rc != Done)
            {
                Fail(rc);
            }
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    public double Double(int column) => raw.sqlite3_column_double(_statement, column);

    /// <summary>The column as text (SQLite's conversion for a number), or null for NULL.</summary>
    public string? Text(int column) => IsNull(column) ? null : raw.sqlite3_column_text(_statement, column).utf8_to_string();

    public void Dispose() => _statement.Dispose();

    /// <summary>Throws for a failed step, after resetting the statement so that it could be used again.</summary>
    private void Fail(int rc)
    {
        try
        {
            // The message is read here, before the reset.
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
