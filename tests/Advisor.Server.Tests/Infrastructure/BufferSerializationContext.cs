using System.Buffers;
using Grpc.Core;

namespace Advisor.Server.Tests.Infrastructure;

/// <summary>
/// A serialization context over a growing buffer, as the framework gives a marshaller: tests call the server's and the
/// load tool's marshallers directly, without a call, and read back what they wrote, the length they announced and whether
/// they completed.
/// </summary>
internal sealed class BufferSerializationContext(int room = 1024) : SerializationContext
{
    public ArrayBufferWriter<byte> Buffer { get; } = new(room);

    /// <summary>The payload length the marshaller announced; -1 when it announced none.</summary>
    public int Length { get; private set; } = -1;

    public bool Completed { get; private set; }

    public override void SetPayloadLength(int payloadLength) => Length = payloadLength;

    public override IBufferWriter<byte> GetBufferWriter() => Buffer;

    public override void Complete() => Completed = true;

    public override void Complete(byte[] payload)
    {
        Buffer.Write(payload);
        Length = payload.Length;
        Completed = true;
    }
}
