using System.Buffers;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Advisor.LoadTest;

/// <summary>A response whose bytes were checked to parse as its message type; which top-level fields it carried.</summary>
/// <param name="Fields">Bit n set when top-level field n (1–63) was present.</param>
public sealed record CheckedResponse(ulong Fields)
{
    public bool Has(int field) => (Fields & (1UL << field)) != 0;
}

/// <summary>
/// Checks that a response's bytes parse as its generated message type would parse them, without building the
/// message: every field the type declares is read as its descriptor says (a declared field sent with another wire type
/// is kept as unknown, as the generated parser keeps it), nested messages are walked the same way (recursively), string
/// fields are checked to be valid UTF-8, unknown fields are skipped; lengths past the end, unterminated varints, field
/// number 0, groups and invalid wire types throw <see cref="InvalidProtocolBufferException"/>, which gRPC reports as a failed call.
/// The load tool uses it for ClassifyBuyer's answers (2–4 KB with their text): building the message turned ~3 KB of
/// UTF-8 into ~10 KB of strings and objects per call in the tool, which then collected garbage with calls in flight.
/// </summary>
public static class WireCheck
{
    private const int MaxDepth = 64;

    /// <summary>advisor.v1.AdvisorService/ClassifyBuyer with its answer checked, not built: what the load tool calls and its tests exercise.</summary>
    public static readonly Method<Advisor.V1.ClassifyBuyerRequest, CheckedResponse> ClassifyBuyer = new(
        MethodType.Unary,
        Advisor.V1.AdvisorService.Descriptor.FullName,
        "ClassifyBuyer",
        RequestMarshaller(Advisor.V1.ClassifyBuyerRequest.Parser),
        ResponseMarshaller(Advisor.V1.ClassifyBuyerResponse.Descriptor));

    /// <summary>A marshaller for responses of <paramref name="descriptor"/>'s type that checks them instead of building them.</summary>
    public static Marshaller<CheckedResponse> ResponseMarshaller(MessageDescriptor descriptor) =>
        Marshallers.Create<CheckedResponse>(
            (_, _) => throw new NotSupportedException("the load tool only reads these messages"),
            context => Check(context.PayloadAsReadOnlySequence(), descriptor));

    /// <summary>A request marshaller that writes a generated message as the generated client does.</summary>
    public static Marshaller<T> RequestMarshaller<T>(MessageParser<T> parser)
        where T : IMessage<T> =>
        Marshallers.Create<T>(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    public static CheckedResponse Check(ReadOnlySequence<byte> payload, MessageDescriptor descriptor)
    {
        if (payload.IsSingleSegment)
        {
            return new CheckedResponse(Walk(payload.FirstSpan, descriptor, 0));
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return new CheckedResponse(Walk(rented.AsSpan(0, (int)payload.Length), descriptor, 0));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Walks one message's fields; returns the set of top-level field numbers seen (below 64).</summary>
    private static ulong Walk(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException("message nested too deeply");
        }

        ulong seen = 0;
        var at = 0;
        while (at < bytes.Length)
        {
            var tag = ReadVarint(bytes, ref at);
            var number = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            if (number <= 0)
            {
                throw new InvalidDataException("invalid field number 0");
            }

            seen |= number < 64 ? 1UL << number : 0;
            // A known field sent with another wire type is an unknown field to the generated parser (kept, not refused);
            // a repeated scalar may come packed (length-delimited) or one value per tag.
            var field = descriptor.FindFieldByNumber(number) is { } declared && Accepts(declared, wireType) ? declared : null;
            switch (wireType)
            {
                case 0:
                    _ = ReadVarint(bytes, ref at);
                    break;
                case 1:
                    at = Skip(bytes, at, 8);
                    break;
                case 5:
                    at = Skip(bytes, at, 4);
                    break;
                case 2:
                    var length = ReadVarint(bytes, ref at);
                    if (length > (ulong)(bytes.Length - at))
                    {
                        throw new InvalidDataException("length-delimited field runs past the end of its message");
                    }

                    var value = bytes.Slice(at, (int)length);
                    at += (int)length;
                    switch (field?.FieldType)
                    {
                        case null or FieldType.Bytes:
                            break;
                        case FieldType.String when !Utf8.IsValid(value):
                            throw new InvalidDataException($"field {field.FullName} is not valid UTF-8");
                        case FieldType.String:
                            break;
                        case FieldType.Message:
                            _ = Walk(value, field.MessageType, depth + 1);
                            break;
                        default:
                            // A packed repeated scalar (Accepts let only those through): values of the field's own encoding.
                            CheckPacked(value, field);
                            break;
                    }

                    break;
                default:
                    throw new InvalidDataException($"wire type {wireType} (groups or invalid) in field {number}");
            }
        }

        return seen;
    }

    private static void CheckPacked(ReadOnlySpan<byte> values, FieldDescriptor field)
    {
        var at = 0;
        while (at < values.Length)
        {
            at = field.FieldType switch
            {
                FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double => Skip(values, at, 8),
                FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float => Skip(values, at, 4),
                _ => SkipVarint(values, at),
            };
        }
    }

    /// <summary>Whether the generated parser reads <paramref name="wireType"/> as <paramref name="field"/> (else it keeps it as unknown).</summary>
    private static bool Accepts(FieldDescriptor field, int wireType) => WireTypeOf(field.FieldType) == wireType || (wireType == 2 && field.IsRepeated && WireTypeOf(field.FieldType) != 2);

    private static int WireTypeOf(FieldType type) => type switch
    {
        FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double => 1,
        FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float => 5,
        FieldType.String or FieldType.Bytes or FieldType.Message => 2,
        FieldType.Group => 3,
        _ => 0,
    };

    private static int Skip(ReadOnlySpan<byte> bytes, int at, int count) =>
        count <= bytes.Length - at ? at + count : throw new InvalidDataException("fixed-width field runs past the end of its message");

    private static int SkipVarint(ReadOnlySpan<byte> bytes, int at)
    {
        _ = ReadVarint(bytes, ref at);
        return at;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= bytes.Length)
            {
                throw new InvalidDataException("varint runs past the end of its message");
            }

            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("varint longer than 10 bytes");
    }
}
