using System.Text.Unicode;
using Google.Protobuf.Reflection;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The reference for <see cref="Advisor.LoadTest.WireCheck"/>: the load tool's check as it was before its per-type field
/// tables (<see cref="Advisor.LoadTest.WireSchema"/>), looking each field up in its descriptor as it comes. Kept here so
/// property tests can show the table-driven check refuses exactly what this refuses and reports the same fields.
/// Slow on purpose: it is obviously what the descriptor says.
/// </summary>
internal static class DescriptorWalk
{
    private const int MaxDepth = 64;

    /// <summary>Throws <see cref="InvalidDataException"/> where the load tool must refuse; else the set of field numbers (below 64) read as declared.</summary>
    public static ulong Walk(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, int depth = 0)
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

            // A known field sent with another wire type is an unknown field to the generated parser (kept, not refused);
            // a repeated scalar may come packed (length-delimited) or one value per tag.
            var field = descriptor.FindFieldByNumber(number) is { } declared && Accepts(declared, wireType) ? declared : null;
            if (field is not null && number < 64)
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

    private static bool Accepts(FieldDescriptor field, int wireType) =>
        WireTypeOf(field.FieldType) == wireType || (wireType == 2 && field.IsRepeated && WireTypeOf(field.FieldType) != 2);

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
