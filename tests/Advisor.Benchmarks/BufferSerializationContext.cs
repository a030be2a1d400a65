using System.Buffers;
using Grpc.Core;

namespace Advisor.Benchmarks;

/// <summary>
/// A serialization context over a reusable buffer, as the framework gives a marshaller: the benchmarks call the server's
/// answer marshallers directly, without a call, so they need the framework's side of the contract and nothing more.
/// </summary>
internal sealed class BufferSerializationContext(ArrayBufferWriter<byte> buffer) : SerializationContext
{
    public BufferSerializationContext()
        : this(new ArrayBufferWriter<byte>(16 * 1024))
    {
    }

    /// <summary>What the marshaller wrote; reset it between messages with <see cref="ArrayBufferWriter{T}.ResetWrittenCount"/>.</summary>
    public ArrayBufferWriter<byte> Buffer { get; } = buffer;

    public override void SetPayloadLength(int payloadLength)
    {
    }

    public override IBufferWriter<byte> GetBufferWriter() => Buffer;

    public override void Complete()
    {
    }

    public override void Complete(byte[] payload) => Buffer.Write(payload);
}
