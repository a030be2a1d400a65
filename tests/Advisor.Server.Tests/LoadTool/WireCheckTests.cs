using System.Buffers;
using Advisor.LoadTest;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The load tool checks ClassifyBuyer's answers against the message's field tables instead of building them
/// (<see cref="WireCheck"/>, <see cref="WireSchema"/>): a real answer must pass and say it carries a classification, and
/// broken bytes must fail the call where the generated parser would refuse them. The tables replaced a walk that looked
/// each field up in its descriptor (<see cref="DescriptorWalk"/>, kept as the reference): on real answers with bytes
/// changed, and on generated messages of every wire type, the two must refuse the same bytes and report the same fields.
/// </summary>
public sealed class WireCheckTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Text = "We are a 40-person logistics company comparing three vendors; procurement needs a quote by Friday and our CFO signs off.";

    private static readonly WireSchema Response = WireSchema.Of(ClassifyBuyerResponse.Descriptor);

    /// <summary>A message type of every shape the contract's answers do not have (packed scalars, itself nested, a far field number, bytes).</summary>
    private static readonly MessageDescriptor Shapes = BuildShapes();

    private static readonly WireSchema ShapesSchema = WireSchema.Of(Shapes);

    [Fact]
    public async Task A_real_answer_over_grpc_passes_and_carries_its_classification()
    {
        var answer = await server.Channel.CreateCallInvoker().AsyncUnaryCall(
            WireCheck.ClassifyBuyer, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken), new ClassifyBuyerRequest { Description = Text });
        answer.Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
    }

    [Fact]
    public async Task Every_cut_of_a_real_answer_is_refused_exactly_when_the_generated_parser_refuses_it()
    {
        var bytes = (await FullAnswerAsync()).ToByteArray();
        bytes.Length.ShouldBeGreaterThan(500, "a full answer with evidence and strategies");
        for (var length = 0; length <= bytes.Length; length++)
        {
            var cut = bytes.AsMemory(0, length);
            var generatedRefuses = Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(cut.Span));
            var checkRefuses = Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(cut), Response));
            checkRefuses.ShouldBe(generatedRefuses, $"cut at {length} of {bytes.Length} bytes");
        }

        WireCheck.Check(new ReadOnlySequence<byte>(bytes), Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
        WireCheck.Check(ReadOnlySequence<byte>.Empty, Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeFalse("an empty answer has no classification");
    }

    [Fact]
    public async Task An_answer_in_several_segments_is_checked_as_a_whole()
    {
        var bytes = (await FullAnswerAsync()).ToByteArray();
        WireCheck.Check(PayloadSegments.Of(bytes, 7), Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
        Throws(() => WireCheck.Check(PayloadSegments.Of(bytes.AsSpan(0, bytes.Length - 1).ToArray(), 7), Response)).ShouldBeTrue("cut inside its last string");
    }

    [Fact]
    public async Task Invalid_utf8_in_a_nested_string_is_refused()
    {
        var answer = await FullAnswerAsync();
        var summary = answer.Classification.Summary;
        summary.ShouldNotBeNullOrEmpty();
        var bytes = answer.ToByteArray();
        var at = bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(summary));
        at.ShouldBeGreaterThan(0);
        bytes[at] = 0xFF;
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(bytes), Response)).ShouldBeTrue();
        Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(bytes)).ShouldBeTrue("the generated parser refuses it too");
    }

    [Fact]
    public async Task Real_answers_with_bytes_changed_are_refused_exactly_as_the_descriptor_walk_refuses_them()
    {
        // Full answers of three descriptions; each sample replaces, inserts or deletes one to three bytes.
        var answers = new List<byte[]>();
        foreach (var text in new[] { Text, "Our law firm has advised them for years on a monthly retainer; we meet their partners every week.", "One-off purchase of 40 laptops at the lowest price, delivered by Friday, no contract." })
        {
            answers.Add((await FullAnswerAsync(text)).ToByteArray());
        }

        var edit = Gen.Select(Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.OneOf(Gen.Byte, Gen.OneOf<byte>([0x00, 0x7F, 0x80, 0xFF, 0x08, 0x0A, 0x0D, 0x0B, 0x0C, 0x0E, 0x0F, 0x22, 0xC3, 0xE6])));
        Gen.Select(Gen.Int[0, answers.Count - 1], edit.Array[1, 3]).Sample((which, edits) =>
        {
            var bytes = new List<byte>(answers[which]);
            foreach (var (kind, position, value) in edits)
            {
                ByteEdit.Apply(bytes, kind, position % (bytes.Count + 1), value);
            }

            var changed = bytes.ToArray();
            var (checkRefuses, fields) = Outcome(() => WireCheck.Check(new ReadOnlySequence<byte>(changed), Response).Fields);
            var (referenceRefuses, referenceFields) = Outcome(() => DescriptorWalk.Walk(changed, ClassifyBuyerResponse.Descriptor));
            checkRefuses.ShouldBe(referenceRefuses);
            fields.ShouldBe(referenceFields);
            if (!checkRefuses && !Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(changed)))
            {
                // What the tool counts as an answer with a classification is what the generated client would see.
                ((fields & (1UL << ClassifyBuyerResponse.ClassificationFieldNumber)) != 0).ShouldBe(ClassifyBuyerResponse.Parser.ParseFrom(changed).Classification is not null);
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Generated_messages_of_every_wire_type_are_refused_exactly_as_the_descriptor_walk_refuses_them()
    {
        // Random fields of every wire type (mostly the four valid ones) with numbers declared and not, values that fit
        // their field and values that do not (cut varints and fixed-width values, invalid UTF-8, lengths past the end),
        // nested to three levels through the type's field of its own type.
        Gen.Int.Sample(seed =>
        {
            var bytes = RandomMessage(new Random(seed), 0);
            var (checkRefuses, fields) = Outcome(() => WireCheck.Check(new ReadOnlySequence<byte>(bytes), ShapesSchema).Fields);
            var (referenceRefuses, referenceFields) = Outcome(() => DescriptorWalk.Walk(bytes, Shapes));
            checkRefuses.ShouldBe(referenceRefuses);
            fields.ShouldBe(referenceFields);
        }, iter: 50_000);
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_are_skipped_as_the_generated_parser_skips_them()
    {
        var classification = new V1.Classification { Kind = BuyerKind.Client, Summary = "kept" }.ToByteArray();
        var nested = Concat(classification, UnknownFields(99), UnknownFields(5000));
        var bytes = Concat(UnknownFields(2), Field(1, 2, Length(nested)), UnknownFields(64), UnknownFields(1 << 28));

        var parsed = ClassifyBuyerResponse.Parser.ParseFrom(bytes);
        parsed.Classification.Summary.ShouldBe("kept");
        WireCheck.Check(new ReadOnlySequence<byte>(bytes), Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
        WireCheck.Check(new ReadOnlySequence<byte>(bytes), Response).Has(2).ShouldBeFalse("field 2 is not declared");
    }

    [Fact]
    public void A_declared_field_sent_with_another_wire_type_is_kept_as_unknown_not_read_as_the_field()
    {
        // The classification as a varint is an unknown field to the generated parser: the answer has no classification.
        var asVarint = Field(1, 0, [0x01]);
        ClassifyBuyerResponse.Parser.ParseFrom(asVarint).Classification.ShouldBeNull();
        WireCheck.Check(new ReadOnlySequence<byte>(asVarint), Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeFalse();

        // A string field (summary, 8) sent as fixed32 is not text: its bytes are not checked as UTF-8.
        var summaryAsFixed32 = Field(1, 2, Length(Field(8, 5, [0xFF, 0xFE, 0xFD, 0xFC])));
        Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(summaryAsFixed32)).ShouldBeFalse();
        WireCheck.Check(new ReadOnlySequence<byte>(summaryAsFixed32), Response).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();

        // A scalar (kind, 1) sent length-delimited is unknown too, its content skipped; a nested message's is walked.
        var kindAsBytes = Field(1, 2, Length(Field(1, 2, Length([0xFF, 0x80]))));
        Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(kindAsBytes)).ShouldBeFalse();
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(kindAsBytes), Response)).ShouldBeFalse();
        var brokenEvidence = Field(1, 2, Length(Field(4, 2, Length([0x0A, 0x05, 0x41]))));
        Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(brokenEvidence)).ShouldBeTrue();
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(brokenEvidence), Response)).ShouldBeTrue("the evidence item's signal runs past its end");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(7)]
    public void Groups_and_invalid_wire_types_are_refused(int wireType)
    {
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(Field(9, wireType, [])), Response)).ShouldBeTrue();
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(Field(1, 2, Length(Field(1, wireType, [])))), Response)).ShouldBeTrue("inside the classification too");
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>([0x00]), Response)).ShouldBeTrue("field number 0");
    }

    [Fact]
    public void Packed_scalars_are_read_in_their_own_encoding_and_as_one_value_per_tag()
    {
        // google.protobuf.SourceCodeInfo.Location: path (1) and span (2) are packed repeated int32, a generated parser at hand.
        var location = new SourceCodeInfo.Types.Location { Path = { 1, 300, 70_000 }, Span = { -1 } };
        var schema = WireSchema.Of(SourceCodeInfo.Types.Location.Descriptor);
        var packed = location.ToByteArray();
        WireCheck.Check(new ReadOnlySequence<byte>(packed), schema).Has(1).ShouldBeTrue();

        var unpacked = Concat(Field(1, 0, [0x01]), Field(1, 0, [0xAC, 0x02]));
        SourceCodeInfo.Types.Location.Parser.ParseFrom(unpacked).Path.ShouldBe([1, 300]);
        WireCheck.Check(new ReadOnlySequence<byte>(unpacked), schema).Has(1).ShouldBeTrue();

        var cutVarint = Field(1, 2, Length([0x01, 0xAC]));
        Throws(() => SourceCodeInfo.Types.Location.Parser.ParseFrom(cutVarint)).ShouldBeTrue();
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(cutVarint), schema)).ShouldBeTrue();
    }

    [Fact]
    public void A_type_with_field_numbers_past_the_table_is_refused_when_the_schema_is_made()
    {
        var far = BuildFile("wirecheck_far.proto", new DescriptorProto
        {
            Name = "Far",
            Field = { new FieldDescriptorProto { Name = "far", Number = WireSchema.MaxFieldNumber + 1, Label = FieldDescriptorProto.Types.Label.Optional, Type = FieldDescriptorProto.Types.Type.Int32, JsonName = "far" } },
        });
        Should.Throw<NotSupportedException>(() => WireSchema.Of(far));
    }

    private async Task<ClassifyBuyerResponse> FullAnswerAsync(string text = Text) =>
        await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = text }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>Shapes: 1 repeated double, 2 repeated fixed32, 3 repeated sint64, 4 Shapes, 5 bytes, 6 string, 7 repeated string, 8 bool, 3000 int64.</summary>
    private static MessageDescriptor BuildShapes()
    {
        static FieldDescriptorProto F(string name, int number, FieldDescriptorProto.Types.Type type, bool repeated = false, string? typeName = null)
        {
            var field = new FieldDescriptorProto
            {
                Name = name,
                JsonName = name,
                Number = number,
                Type = type,
                Label = repeated ? FieldDescriptorProto.Types.Label.Repeated : FieldDescriptorProto.Types.Label.Optional,
            };
            if (typeName is not null)
            {
                field.TypeName = typeName;
            }

            return field;
        }

        return BuildFile("wirecheck_shapes.proto", new DescriptorProto
        {
            Name = "Shapes",
            Field =
            {
                F("doubles", 1, FieldDescriptorProto.Types.Type.Double, repeated: true),
                F("fixeds", 2, FieldDescriptorProto.Types.Type.Fixed32, repeated: true),
                F("zigzags", 3, FieldDescriptorProto.Types.Type.Sint64, repeated: true),
                F("self", 4, FieldDescriptorProto.Types.Type.Message, typeName: ".wirecheck.Shapes"),
                F("blob", 5, FieldDescriptorProto.Types.Type.Bytes),
                F("text", 6, FieldDescriptorProto.Types.Type.String),
                F("texts", 7, FieldDescriptorProto.Types.Type.String, repeated: true),
                F("flag", 8, FieldDescriptorProto.Types.Type.Bool),
                F("far", 3000, FieldDescriptorProto.Types.Type.Int64),
            },
        });
    }

    private static MessageDescriptor BuildFile(string name, DescriptorProto message)
    {
        var file = new FileDescriptorProto { Name = name, Package = "wirecheck", Syntax = "proto3", MessageType = { message } };
        return FileDescriptor.BuildFromByteStrings([file.ToByteString()])[0].MessageTypes[0];
    }

    private static readonly int[] Numbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 64, 3000, 4097, 1 << 20];

    private static byte[] RandomMessage(Random random, int depth)
    {
        var message = new List<byte>();
        var count = random.Next(0, 7);
        for (var n = 0; n < count; n++)
        {
            var number = Numbers[random.Next(Numbers.Length)];
            var wireType = random.Next(50) switch
            {
                0 => 3,
                1 => 4,
                2 => 6,
                3 => 7,
                var r => (r % 4) switch { 0 => 0, 1 => 1, 2 => 2, _ => 5 },
            };
            message.AddRange(Varint((ulong)number << 3 | (uint)wireType));
            switch (wireType)
            {
                case 0:
                    message.AddRange(random.Next(10) == 0 ? Enumerable.Repeat((byte)0x80, random.Next(1, 12)).ToArray() : Varint((ulong)random.NextInt64() >> random.Next(64)));
                    break;
                case 1:
                    message.AddRange(RandomBytes(random, 8));
                    break;
                case 5:
                    message.AddRange(RandomBytes(random, 4));
                    break;
                case 2:
                    var value = random.Next(5) switch
                    {
                        0 when depth < 3 => RandomMessage(random, depth + 1),
                        1 => System.Text.Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "plain text" : "Kanzlei für Ärzte 法律 🤝"),
                        2 => Concat(Varint(300), Varint(1), Varint((ulong)random.NextInt64())),
                        _ => RandomBytes(random, random.Next(0, 17)),
                    };
                    var length = value.Length + (random.Next(20) == 0 ? random.Next(-1, 2) : 0);
                    message.AddRange(Varint((ulong)Math.Max(length, 0)));
                    message.AddRange(value);
                    break;
                default:
                    break;
            }
        }

        return random.Next(10) == 0 && message.Count > 0 ? message.GetRange(0, random.Next(message.Count)).ToArray() : message.ToArray();
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>One unknown field of each valid wire type, numbered <paramref name="number"/>.</summary>
    private static byte[] UnknownFields(int number) =>
        Concat(Field(number, 0, Varint(150)), Field(number, 1, new byte[8]), Field(number, 2, Length([0xFF, 0x00])), Field(number, 5, new byte[4]));

    private static byte[] Field(int number, int wireType, byte[] value) => Concat(Varint((ulong)number << 3 | (uint)wireType), value);

    private static byte[] Length(byte[] value) => Concat(Varint((ulong)value.Length), value);

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static (bool Refused, ulong Fields) Outcome(Func<ulong> check)
    {
        try
        {
            return (false, check());
        }
        catch (InvalidDataException)
        {
            return (true, 0);
        }
    }

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidProtocolBufferException or ArgumentException or System.Text.DecoderFallbackException)
        {
            return true;
        }
    }
}
