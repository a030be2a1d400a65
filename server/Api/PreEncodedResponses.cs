using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Advisor.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// ClassifyBuyer's response marshaller: writes the answer's protobuf by hand, sizing every part once, and copies the
/// parts encoded once instead of encoding them on every answer. A full answer carries up to three strategies (about
/// 2 KB of the 3 KB answer), copied as the bytes encoded when their messages were built (<see cref="StrategyMessages"/>);
/// evidence items that are the same in every answer naming their rule (the basic view's, and a profile's in the full
/// view) are copied the same way (<see cref="EvidenceMessages"/>). Why by hand: the generated serializer sizes a
/// nested message once per enclosing level (an evidence item's span three times: for the response, the classification
/// and the item), and the wire mirrors this replaced were a copy of the answer per call; a description's full answer
/// (items with spans, built per call) spent ~3.7 µs of server CPU writing itself under the load tool.
/// The bytes written are exactly the generated serializer's (<c>PreEncodedResponsesTests</c>, which also fails when a
/// field is added to the messages written here); nothing is cached per answer: every other field is written from the
/// answer built for this call.
/// </summary>
public sealed class PreEncodedResponses(StrategyMessages strategies, EvidenceMessages evidence)
{
    /// <summary>Parts of an answer sized in the first pass and written in the second without being looked up again.</summary>
    private const int StackParts = 32;

    /// <summary>The marshaller to use for a method's responses: a pre-encoding one where there is one, else <paramref name="generated"/>.</summary>
    public Marshaller<TResponse> For<TResponse>(Marshaller<TResponse> generated)
        where TResponse : class =>
        typeof(TResponse) == typeof(ClassifyBuyerResponse)
            ? (Marshaller<TResponse>)(object)new Marshaller<ClassifyBuyerResponse>(WriteClassifyBuyer, ((Marshaller<ClassifyBuyerResponse>)(object)generated).ContextualDeserializer)
            : generated;

    private void WriteClassifyBuyer(ClassifyBuyerResponse response, SerializationContext context)
    {
        if (response.Classification is not { } c)
        {
            context.SetPayloadLength(0);
            context.Complete();
            return;
        }

        // Per evidence item and strategy: its kept bytes (null for an item built per call) and its encoded length.
        var parts = c.Evidence.Count + c.Strategies.Count;
        var rented = parts > StackParts ? ArrayPool<ByteString?>.Shared.Rent(parts) : null;
        var inline = default(InlineParts);
        Span<ByteString?> kept = rented is null ? ((Span<ByteString?>)inline)[..parts] : rented.AsSpan(0, parts);
        Span<int> lengths = parts <= StackParts ? stackalloc int[parts] : new int[parts];
        try
        {
            var body = SizeClassification(c, kept, lengths);
            var total = 1 + VarintSize((uint)body) + body;
            context.SetPayloadLength(total);
            var writer = context.GetBufferWriter();

            // Straight into the response's buffer when the answer fits what is left of it; otherwise encoded aside and
            // copied, since asking the pipe for the whole answer in one piece would start a new block and leave the
            // rest of the current one unused (measured: ~130 B more allocated per description call under load).
            var free = writer.GetSpan();
            var aside = free.Length >= total ? null : ArrayPool<byte>.Shared.Rent(total);
            var output = new Output(aside is null ? free : aside.AsSpan(0, total));
            output.Tag(ClassifyBuyerResponse.ClassificationFieldNumber, LengthDelimited);
            output.Varint((uint)body);
            WriteClassification(ref output, c, kept, lengths);
            if (aside is null)
            {
                writer.Advance(total);
            }
            else
            {
                writer.Write(aside.AsSpan(0, total));
                ArrayPool<byte>.Shared.Return(aside);
            }

            context.Complete();
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ByteString?>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// The classification's encoded length; fills <paramref name="kept"/> and <paramref name="lengths"/> with each evidence
    /// item's and then each strategy's kept bytes and length.
    /// </summary>
    private int SizeClassification(V1.Classification c, Span<ByteString?> kept, Span<int> lengths)
    {
        var size = 0;
        if (c.Kind != BuyerKind.Unspecified)
        {
            size += 1 + Int32Size((int)c.Kind);
        }

        size += DoubleSize(c.Confidence) + DoubleSize(c.Score);
        var p = 0;
        foreach (var item in c.Evidence)
        {
            kept[p] = evidence.Encoded(item);
            lengths[p] = kept[p]?.Length ?? SizeEvidence(item);
            size += 1 + VarintSize((uint)lengths[p]) + lengths[p];
            p++;
        }

        foreach (var question in c.OpenQuestions)
        {
            size += 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(question));
        }

        foreach (var strategy in c.Strategies)
        {
            kept[p] = strategies.Encoded(strategy);
            lengths[p] = kept[p]!.Length;
            size += 1 + VarintSize((uint)lengths[p]) + lengths[p];
            p++;
        }

        return size + StringSize(c.RuleSetVersion) + StringSize(c.Summary) + DoubleSize(c.ClientWeight) + DoubleSize(c.CustomerWeight)
            + StringSize(c.Industry) + StringSize(c.ClassificationId);
    }

    private static void WriteClassification(ref Output output, V1.Classification c, scoped ReadOnlySpan<ByteString?> kept, scoped ReadOnlySpan<int> lengths)
    {
        if (c.Kind != BuyerKind.Unspecified)
        {
            output.Tag(V1.Classification.KindFieldNumber, Varint);
            output.Int32((int)c.Kind);
        }

        output.Double(V1.Classification.ConfidenceFieldNumber, c.Confidence);
        output.Double(V1.Classification.ScoreFieldNumber, c.Score);
        var p = 0;
        foreach (var item in c.Evidence)
        {
            output.Tag(V1.Classification.EvidenceFieldNumber, LengthDelimited);
            output.Varint((uint)lengths[p]);
            if (kept[p] is { } bytes)
            {
                output.Raw(bytes.Span);
            }
            else
            {
                WriteEvidence(ref output, item);
            }

            p++;
        }

        foreach (var question in c.OpenQuestions)
        {
            output.RepeatedString(V1.Classification.OpenQuestionsFieldNumber, question);
        }

        for (var s = 0; s < c.Strategies.Count; s++, p++)
        {
            output.Tag(V1.Classification.StrategiesFieldNumber, LengthDelimited);
            output.Varint((uint)lengths[p]);
            output.Raw(kept[p]!.Span);
        }

        output.String(V1.Classification.RuleSetVersionFieldNumber, c.RuleSetVersion);
        output.String(V1.Classification.SummaryFieldNumber, c.Summary);
        output.Double(V1.Classification.ClientWeightFieldNumber, c.ClientWeight);
        output.Double(V1.Classification.CustomerWeightFieldNumber, c.CustomerWeight);
        output.String(V1.Classification.IndustryFieldNumber, c.Industry);
        output.String(V1.Classification.ClassificationIdFieldNumber, c.ClassificationId);
    }

    /// <summary>An evidence item built for this answer (one with a span or interaction ids), sized as it is written below.</summary>
    private static int SizeEvidence(Evidence e)
    {
        var size = StringSize(e.Signal) + StringSize(e.RuleId) + DoubleSize(e.Weight);
        if (e.Span is { } span)
        {
            var spanSize = SizeSpan(span);
            size += 1 + VarintSize((uint)spanSize) + spanSize;
        }

        size += StringSize(e.Explanation) + StringSize(e.Source);
        foreach (var id in e.InteractionIds)
        {
            size += 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(id));
        }

        return size;
    }

    private static void WriteEvidence(ref Output output, Evidence e)
    {
        output.String(Evidence.SignalFieldNumber, e.Signal);
        output.String(Evidence.RuleIdFieldNumber, e.RuleId);
        output.Double(Evidence.WeightFieldNumber, e.Weight);
        if (e.Span is { } span)
        {
            output.Tag(Evidence.SpanFieldNumber, LengthDelimited);
            output.Varint((uint)SizeSpan(span));
            if (span.Start != 0)
            {
                output.Tag(TextSpan.StartFieldNumber, Varint);
                output.Int32(span.Start);
            }

            if (span.End != 0)
            {
                output.Tag(TextSpan.EndFieldNumber, Varint);
                output.Int32(span.End);
            }

            output.String(TextSpan.TextFieldNumber, span.Text);
        }

        output.String(Evidence.ExplanationFieldNumber, e.Explanation);
        output.String(Evidence.SourceFieldNumber, e.Source);
        foreach (var id in e.InteractionIds)
        {
            output.RepeatedString(Evidence.InteractionIdsFieldNumber, id);
        }
    }

    private static int SizeSpan(TextSpan span) =>
        (span.Start != 0 ? 1 + Int32Size(span.Start) : 0) + (span.End != 0 ? 1 + Int32Size(span.End) : 0) + StringSize(span.Text);

    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;

    /// <summary>A proto3 string field: left out when empty, as the generated code does.</summary>
    private static int StringSize(string value) => value.Length == 0 ? 0 : 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(value));

    /// <summary>A proto3 double field: left out when it compares equal to 0 (so also -0.0), as the generated code does.</summary>
    private static int DoubleSize(double value) => value != 0D ? 1 + sizeof(double) : 0;

    private static int LengthDelimitedSize(int length) => VarintSize((uint)length) + length;

    /// <summary>A negative int32 is written as a ten-byte varint (sign-extended to 64 bits), as protobuf does.</summary>
    private static int Int32Size(int value) => value >= 0 ? VarintSize((uint)value) : 10;

    private static int VarintSize(ulong value) => (BitOperations.Log2(value | 1) / 7) + 1;

    /// <summary>
    /// The parts of an answer of at most <see cref="StackParts"/> evidence items and strategies, kept on the stack.
    /// Holds references, so it is an inline array rather than stack memory.
    /// </summary>
    [System.Runtime.CompilerServices.InlineArray(StackParts)]
    private struct InlineParts
    {
        private ByteString? _first;
    }

    /// <summary>Protobuf's wire encoding into a span sized for the whole answer (field numbers here are all below 16).</summary>
    private ref struct Output(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _at;

        public void Tag(int field, int wireType) => _buffer[_at++] = (byte)((field << 3) | wireType);

        public void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer[_at++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _buffer[_at++] = (byte)value;
        }

        public void Int32(int value) => Varint((ulong)(long)value);

        public void Double(int field, double value)
        {
            if (value != 0D)
            {
                Tag(field, Fixed64);
                BinaryPrimitives.WriteDoubleLittleEndian(_buffer[_at..], value);
                _at += sizeof(double);
            }
        }

        public void String(int field, string value)
        {
            if (value.Length != 0)
            {
                RepeatedString(field, value);
            }
        }

        /// <summary>A string written even when empty, as an element of a repeated field is.</summary>
        public void RepeatedString(int field, string value)
        {
            Tag(field, LengthDelimited);
            Varint((uint)Encoding.UTF8.GetByteCount(value));
            _at += Encoding.UTF8.GetBytes(value, _buffer[_at..]);
        }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[_at..]);
            _at += bytes.Length;
        }
    }
}
