using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Advisor.Bot.Hosting;

/// <summary>
/// A webhook's JSON answer (Slack's and Discord's alike), written in one piece with a Content-Length. Results.Json took the general serializer
/// path (type lookup, async serialization, a chunked body) for a body that is already a finished JSON tree of a
/// few kilobytes. A body can also be written straight to the writer (a slash command's Block Kit answer), without a tree.
/// </summary>
public sealed class JsonBody(Action<Utf8JsonWriter> write) : IResult
{
    public JsonBody(JsonNode body)
        : this(writer => body.WriteTo(writer))
    {
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        // Written into pooled memory: a new 4 KB buffer, grown by copying for a longer Block Kit answer, was the
        // largest single allocation of a slash command (docs/benchmarks.md, "Slack slash command: CPU per request").
        using var buffer = new PooledBufferWriter(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> on arrays rented from the shared pool, returned on dispose.</summary>
    private sealed class PooledBufferWriter(int initialCapacity) : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

        public int WrittenCount { get; private set; }

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, WrittenCount);

        public void Advance(int count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - WrittenCount);
            WrittenCount += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(WrittenCount);
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        private void Ensure(int sizeHint)
        {
            var needed = WrittenCount + Math.Max(sizeHint, 1);
            if (needed <= _buffer.Length)
            {
                return;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
            _buffer.AsSpan(0, WrittenCount).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}
