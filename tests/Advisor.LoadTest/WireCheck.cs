using System.Buffers;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Advisor.LoadTest;

/// <summary>A response whose bytes were checked to parse as its message type; which top-level fields it carried.</summary>
/// <param name="Fields">Bit n set when top-level field n (1–63) was present with a wire type its message type reads as that field.</param>
public sealed record CheckedResponse(ulong Fields)
{
    /// <summary>
    /// Set by <see cref="FirstAnswerCheck"/> when this well-formed answer is not the first answer to the same request but
    /// for its classification id: the service answered the same request differently (the scenario counts it as an error).
    /// </summary>
    public bool DiffersFromFirst { get; init; }

    public bool Has(int field) => (Fields & (1UL << field)) != 0;
}

/// <summary>
/// Checks that a response's bytes parse as its generated message type would parse them, without building the
/// message: every field the type declares is read as its descriptor says (a declared field sent with another wire type
/// is kept as unknown, as the generated parser keeps it), nested messages are walked the same way (recursively), string
/// fields are checked to be valid UTF-8, unknown fields are skipped; lengths past the end, unterminated varints, field
/// number 0, groups and invalid wire types throw <see cref="InvalidDataException"/>, which gRPC reports as a failed call.
/// The load tool uses it for ClassifyBuyer's answers (2–4 KB with their text): building the message turned ~3 KB of
/// UTF-8 into ~10 KB of strings and objects per call in the tool, which then collected garbage with calls in flight.
/// </summary>
/// <remarks>
/// Per call the tool reads each field's tag, finds what to do with the field in its message type's
/// <see cref="WireSchema"/> by indexing an array with the field number, and reads the value: varints and fixed-width values
/// are skipped over (bounds-checked), strings validated as UTF-8, nested messages walked with their own schema. The
/// schemas are worked out from the descriptors once, when the marshaller is made: looking each field up in its
/// descriptor per field (a dictionary lookup, then the field's type and wire type worked out from it) cost the tool about
/// 1.2 µs of its ~16 µs per full-view answer (perf, 2026-11-29), CPU that the server sharing the machine then lacked.
/// </remarks>
public static class WireCheck
{
    private const int MaxDepth = 64;

    /// <summary>advisor.v1.ClassifyBuyerResponse's schema, made once (it is never changed after it is made).</summary>
    public static readonly WireSchema ClassifyBuyerResponseSchema = WireSchema.Of(Advisor.V1.ClassifyBuyerResponse.Descriptor);

    /// <summary>
    /// advisor.v1.AdvisorService/ClassifyBuyer with every answer walked in full, not built: for a request sent once. The
    /// load tool's fixed requests go through their own <see cref="ClassifyCall.Method"/> instead.
    /// </summary>
    public static readonly Method<Advisor.V1.ClassifyBuyerRequest, CheckedResponse> ClassifyBuyer = new(
        MethodType.Unary,
        Advisor.V1.AdvisorService.Descriptor.FullName,
        "ClassifyBuyer",
        RequestMarshaller(Advisor.V1.ClassifyBuyerRequest.Parser),
        Marshallers.Create<CheckedResponse>(
            (_, _) => throw new NotSupportedException("the load tool only reads these messages"),
            context => Check(context.PayloadAsReadOnlySequence(), ClassifyBuyerResponseSchema)));

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

    public static CheckedResponse Check(ReadOnlySequence<byte> payload, WireSchema schema)
    {
        if (payload.IsSingleSegment)
        {
            return new CheckedResponse(Walk(payload.FirstSpan, schema, 0));
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return new CheckedResponse(Walk(rented.AsSpan(0, (int)payload.Length), schema, 0));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The full walk of one message (see the class's summary); returns the set of its top-level field numbers (below 64) read as declared.</summary>
    internal static ulong Walk(ReadOnlySpan<byte> bytes, WireSchema schema) => Walk(bytes, schema, 0);

    /// <summary>Walks one message's fields; returns the set of its field numbers (below 64) read as declared.</summary>
    private static ulong Walk(ReadOnlySpan<byte> bytes, WireSchema schema, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException("message nested too deeply");
        }

        var fields = schema.Fields;
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

            // A known field sent with another wire type is an unknown field to the generated parser (kept, not refused);
            // a repeated scalar may come packed (length-delimited) or one value per tag. A number past the table is undeclared.
            var field = (uint)number < (uint)fields.Length ? fields[number] : default;
            var declared = ((field.WireTypes >> wireType) & 1) != 0;
            if (declared && number < 64)
            {
                seen |= 1UL << number;
            }

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
                    if (declared)
                    {
                        CheckContent(value, field, depth);
                    }

                    break;
                default:
                    throw new InvalidDataException($"wire type {wireType} (groups or invalid) in field {number}");
            }
        }

        return seen;
    }

    /// <summary>A declared field's length-delimited value, as its type reads it.</summary>
    private static void CheckContent(ReadOnlySpan<byte> value, in WireSchema.Field field, int depth)
    {
        switch (field.Content)
        {
            case WireSchema.Content.Utf8 when !Utf8.IsValid(value):
                throw new InvalidDataException($"field {field.Name} is not valid UTF-8");
            case WireSchema.Content.Message:
                _ = Walk(value, field.Nested!, depth + 1);
                break;
            case WireSchema.Content.PackedVarints:
                for (var at = 0; at < value.Length;)
                {
                    _ = ReadVarint(value, ref at);
                }

                break;
            case WireSchema.Content.PackedFixed64:
                for (var at = 0; at < value.Length;)
                {
                    at = Skip(value, at, 8);
                }

                break;
            case WireSchema.Content.PackedFixed32:
                for (var at = 0; at < value.Length;)
                {
                    at = Skip(value, at, 4);
                }

                break;
            default:
                // Bytes, or a valid string: nothing more to read.
                break;
        }
    }

    private static int Skip(ReadOnlySpan<byte> bytes, int at, int count) =>
        count <= bytes.Length - at ? at + count : throw new InvalidDataException("fixed-width field runs past the end of its message");

    internal static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        // Tags and most lengths of an answer fit one byte.
        if (at < bytes.Length && bytes[at] < 0x80)
        {
            return bytes[at++];
        }

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

/// <summary>
/// What <see cref="WireCheck"/> does with each field of one message type, worked out once from its descriptor: indexed by
/// field number, the wire types the generated parser reads as that field and how its length-delimited value is read
/// (UTF-8 text, a nested message with its own schema, packed scalars, or bytes). Made when a marshaller is made, so a
/// response's fields cost an array index each instead of a descriptor lookup.
/// </summary>
public sealed class WireSchema
{
    /// <summary>The largest field number given a table slot; the advisor.v1 and well-known types stay far below it.</summary>
    public const int MaxFieldNumber = 4096;

    private WireSchema(MessageDescriptor descriptor, int highestNumber)
    {
        Descriptor = descriptor;
        Fields = new Field[highestNumber + 1];
    }

    public MessageDescriptor Descriptor { get; }

    /// <summary>By field number; a number without a declared field has <c>default</c> (no wire type read as declared).</summary>
    internal Field[] Fields { get; }

    /// <summary>The schema of <paramref name="descriptor"/>'s type and, reached from it, of every message type it nests.</summary>
    public static WireSchema Of(MessageDescriptor descriptor) => Of(descriptor, []);

    private static WireSchema Of(MessageDescriptor descriptor, Dictionary<MessageDescriptor, WireSchema> made)
    {
        if (made.TryGetValue(descriptor, out var existing))
        {
            return existing;
        }

        var declared = descriptor.Fields.InFieldNumberOrder();
        var highest = declared.Count == 0 ? 0 : declared[^1].FieldNumber;
        if (highest > MaxFieldNumber)
        {
            throw new NotSupportedException($"{descriptor.FullName} declares field {highest}; the load tool's check indexes fields up to {MaxFieldNumber}");
        }

        // Registered before its fields are filled, so a type that nests itself (directly or not) ends at this schema.
        var schema = new WireSchema(descriptor, highest);
        made.Add(descriptor, schema);
        foreach (var field in declared)
        {
            var wireType = WireTypeOf(field.FieldType);
            // The generated parser also reads a repeated scalar's values packed into one length-delimited field.
            var packable = field.IsRepeated && wireType != 2;
            var wireTypes = (byte)((1 << wireType) | (packable ? 1 << 2 : 0));
            var content = field.FieldType switch
            {
                FieldType.String => Content.Utf8,
                FieldType.Message => Content.Message,
                FieldType.Bytes or FieldType.Group => Content.None,
                _ when wireType == 1 => Content.PackedFixed64,
                _ when wireType == 5 => Content.PackedFixed32,
                _ => Content.PackedVarints,
            };
            var nested = field.FieldType == FieldType.Message ? Of(field.MessageType, made) : null;
            schema.Fields[field.FieldNumber] = new Field(wireTypes, content, nested, field.FullName);
        }

        return schema;
    }

    private static int WireTypeOf(FieldType type) => type switch
    {
        FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double => 1,
        FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float => 5,
        FieldType.String or FieldType.Bytes or FieldType.Message => 2,
        FieldType.Group => 3,
        _ => 0,
    };

    /// <summary>How a declared field's length-delimited value is read.</summary>
    internal enum Content : byte
    {
        None,
        Utf8,
        Message,
        PackedVarints,
        PackedFixed64,
        PackedFixed32,
    }

    /// <param name="WireTypes">Bit w set when wire type w is read as this field (else the field is kept as unknown).</param>
    /// <param name="Nested">The nested message's schema, for <see cref="Content.Message"/>.</param>
    /// <param name="Name">The field's full name, for the failure's message.</param>
    internal readonly record struct Field(byte WireTypes, Content Content, WireSchema? Nested, string? Name);
}
