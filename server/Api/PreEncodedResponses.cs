using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Advisor.Server.Classification;
using Advisor.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// ClassifyBuyer's response marshaller: writes the domain answer (<see cref="ClassifyBuyerAnswer"/>) straight to
/// protobuf by hand, sizing every part once, and copies the parts that are the same in every answer naming them
/// instead of encoding them per call: a strategy's bytes (<see cref="StrategyMessages"/>; up to three strategies are
/// about 2 KB of a 3 KB full answer), and each evidence item's rule fields (signal, rule id, weight, explanation) and
/// source (<see cref="EvidenceEncodings"/>). Only what differs per answer is encoded per call: the decision's numbers,
/// the summary, the ids, a description item's span (offsets and its text, copied from the description without cutting
/// it out) and a registered buyer's interaction ids. Why by hand and from the domain: the generated serializer sizes a
/// nested message once per enclosing level (an evidence item's span three times), and building an
/// <c>advisor.v1.Evidence</c> and <c>TextSpan</c> per item per call, only to be written once, was the full view's extra
/// cost over the basic view (measured in docs/benchmarks.md).
/// The bytes written are exactly the generated serializer's for <see cref="ClassifyBuyerAnswer.ToResponse"/>
/// (<c>PreEncodedResponsesTests</c>, which also fails when a field is added to the messages written here).
/// </summary>
public sealed class PreEncodedResponses
{
    /// <summary>Evidence items of an answer sized in the first pass and written in the second without being looked up again.</summary>
    private const int StackParts = 32;

    private readonly StrategyMessages _strategies;
    private readonly EvidenceEncodings _evidence;

    public PreEncodedResponses(StrategyMessages strategies, EvidenceEncodings evidence)
    {
        (_strategies, _evidence) = (strategies, evidence);
        ClassifyBuyerAnswers = new Marshaller<ClassifyBuyerAnswer>(WriteClassifyBuyer, static _ =>
            throw new NotSupportedException("ClassifyBuyer's answers are written by the server and read by clients as advisor.v1.ClassifyBuyerResponse; the server never reads one."));
    }

    /// <summary>The response marshaller of ClassifyBuyer as bound by <see cref="GuardedServiceMethodProvider{TService}"/>.</summary>
    public Marshaller<ClassifyBuyerAnswer> ClassifyBuyerAnswers { get; }

    private void WriteClassifyBuyer(ClassifyBuyerAnswer answer, SerializationContext context)
    {
        var items = answer.Classified.Result.Evidence.Count;

        // Per evidence item its rule's kept fields (null for an item that is not its rule's, unused for a description's
        // items by number), its encoded length and its span's.
        var rented = items > StackParts ? ArrayPool<object?>.Shared.Rent(items) : null;
        var inline = default(InlineParts);
        Span<object?> kept = rented is null ? ((Span<object?>)inline)[..items] : rented.AsSpan(0, items);
        Span<int> lengths = items <= StackParts ? stackalloc int[items] : new int[items];
        Span<int> spanLengths = items <= StackParts ? stackalloc int[items] : new int[items];
        try
        {
            var rules = _evidence.For(answer.Rules);
            var strategies = answer.Full ? _strategies.Field(answer.Classified.Strategies) : [];
            var body = SizeClassification(answer, rules, strategies, kept, lengths, spanLengths, out var asciiText, out var summaryLength);
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
            WriteClassification(ref output, answer, rules, strategies, kept, lengths, spanLengths, asciiText, summaryLength);
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
                ArrayPool<object?>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// The classification's encoded length, <paramref name="strategies"/> its strategies field; fills <paramref name="kept"/>
    /// and <paramref name="lengths"/> with each evidence item's kept parts and length, and <paramref name="spanLengths"/>
    /// with each item's span's; <paramref name="asciiText"/> tells whether the evidence is a description's by number whose
    /// text is plain ASCII.
    /// </summary>
    private static int SizeClassification(ClassifyBuyerAnswer answer, RuleEvidence rules, byte[] strategies, Span<object?> kept, Span<int> lengths, Span<int> spanLengths, out bool asciiText, out int summaryLength)
    {
        asciiText = false;
        var r = answer.Classified.Result;
        var size = 0;
        var kind = r.Kind.ToProto();
        if (kind != BuyerKind.Unspecified)
        {
            size += 1 + Int32Size((int)kind);
        }

        size += DoubleSize(r.Confidence) + DoubleSize(r.Score);
        // Indexed loops throughout: the lists are interfaces, and foreach would box an enumerator per list per pass.
        var p = 0;
        if (DescribedItems(answer, rules) is { IsEmpty: false } shared)
        {
            // A description's full-view evidence: each item's kept fields found by its number, its span beside it. Why the
            // description is checked for ASCII once: then a span's UTF-8 length is its length in characters, where counting
            // each span's bytes was a call per item (perf, docs/benchmarks.md "the answer's parts kept").
            var described = (DescriptionEvidence)r.Evidence;
            var ascii = asciiText = Ascii.IsValid(described.Text);
            foreach (var entry in described.Entries)
            {
                var item = shared[entry.Shared];
                lengths[p] = item.Length;
                if (entry.Start != DescribedItem.NoSpan)
                {
                    var chars = described.Text.AsSpan(entry.Start, entry.End - entry.Start);
                    spanLengths[p] = SizeSpan(entry.Start, entry.End, ascii ? chars.Length : Encoding.UTF8.GetByteCount(chars));
                    lengths[p] += 1 + VarintSize((uint)spanLengths[p]) + spanLengths[p];
                }
                else if (item.Span is { } span)
                {
                    spanLengths[p] = SizeSpan(span);
                    lengths[p] += 1 + VarintSize((uint)spanLengths[p]) + spanLengths[p];
                }

                size += 1 + VarintSize((uint)lengths[p]) + lengths[p];
                p++;
            }
        }
        else
        {
            for (var i = 0; i < r.Evidence.Count; i++)
            {
                var item = r.Evidence[i];
                var rule = rules.For(item);
                kept[p] = rule;
                lengths[p] = answer.Full ? SizeFullEvidence(item, rule, out spanLengths[p]) : SizeBasicEvidence(item, rule);
                size += 1 + VarintSize((uint)lengths[p]) + lengths[p];
                p++;
            }
        }

        if (answer.Full)
        {
            for (var i = 0; i < r.OpenQuestions.Count; i++)
            {
                size += 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(r.OpenQuestions[i]));
            }

            size += strategies.Length;
        }

        return size + (IsVersionOf(r, rules) ? rules.VersionField.Length : StringSize(r.RuleSetVersion)) + SummarySize(r, out summaryLength) + DoubleSize(r.ClientWeight) + DoubleSize(r.CustomerWeight)
            + StringSize(r.Industry?.Title ?? "") + StringSize(answer.ClassificationId);
    }

    private static void WriteClassification(ref Output output, ClassifyBuyerAnswer answer, RuleEvidence rules, byte[] strategies, scoped ReadOnlySpan<object?> kept, scoped ReadOnlySpan<int> lengths, scoped ReadOnlySpan<int> spanLengths, bool asciiText, int summaryLength)
    {
        var r = answer.Classified.Result;
        var kind = r.Kind.ToProto();
        if (kind != BuyerKind.Unspecified)
        {
            output.Tag(V1.Classification.KindFieldNumber, Varint);
            output.Int32((int)kind);
        }

        output.Double(V1.Classification.ConfidenceFieldNumber, r.Confidence);
        output.Double(V1.Classification.ScoreFieldNumber, r.Score);
        var p = 0;
        if (DescribedItems(answer, rules) is { IsEmpty: false } shared)
        {
            var described = (DescriptionEvidence)r.Evidence;
            foreach (var entry in described.Entries)
            {
                var item = shared[entry.Shared];
                output.Tag(V1.Classification.EvidenceFieldNumber, LengthDelimited);
                output.Varint((uint)lengths[p]);
                output.Raw(item.Head);
                if (entry.Start != DescribedItem.NoSpan)
                {
                    WriteSpan(ref output, entry.Start, entry.End, described.Text.AsSpan(entry.Start, entry.End - entry.Start), spanLengths[p], asciiText);
                }
                else if (item.Span is { } span)
                {
                    WriteSpan(ref output, span, spanLengths[p]);
                }

                output.Raw(item.Tail);
                p++;
            }
        }
        else
        {
            for (var i = 0; i < r.Evidence.Count; i++)
            {
                var item = r.Evidence[i];
                output.Tag(V1.Classification.EvidenceFieldNumber, LengthDelimited);
                output.Varint((uint)lengths[p]);
                var rule = (EncodedRule?)kept[p];
                if (answer.Full)
                {
                    WriteFullEvidence(ref output, item, rule, spanLengths[p]);
                }
                else
                {
                    WriteBasicEvidence(ref output, item, rule);
                }

                p++;
            }
        }

        if (answer.Full)
        {
            for (var i = 0; i < r.OpenQuestions.Count; i++)
            {
                output.RepeatedString(V1.Classification.OpenQuestionsFieldNumber, r.OpenQuestions[i]);
            }

            output.Raw(strategies);
        }

        if (IsVersionOf(r, rules))
        {
            output.Raw(rules.VersionField);
        }
        else
        {
            output.String(V1.Classification.RuleSetVersionFieldNumber, r.RuleSetVersion);
        }

        if (r.TryGetSummaryFill(out var summary))
        {
            output.Utf8Summary(summary, summaryLength);
        }
        else
        {
            output.String(V1.Classification.SummaryFieldNumber, r.Summary);
        }

        output.Double(V1.Classification.ClientWeightFieldNumber, r.ClientWeight);
        output.Double(V1.Classification.CustomerWeightFieldNumber, r.CustomerWeight);
        output.String(V1.Classification.IndustryFieldNumber, r.Industry?.Title ?? "");
        output.String(V1.Classification.ClassificationIdFieldNumber, answer.ClassificationId);
    }

    /// <summary>
    /// For a full answer whose evidence is a description's with spans (<see cref="DescriptionEvidence"/>) numbering the
    /// shared items of the rule set whose fields are kept, those items' kept fields by number; otherwise empty, and the
    /// evidence is written item by item from the list.
    /// </summary>
    private static ReadOnlySpan<EncodedSharedItem> DescribedItems(ClassifyBuyerAnswer answer, RuleEvidence rules) =>
        answer.Full && answer.Classified.Result.Evidence is DescriptionEvidence described ? rules.SharedItemsOf(described) : default;

    /// <summary>
    /// The summary field: from what fills its template when the classifier kept that (<see cref="SummaryTemplate.WriteUtf8"/>,
    /// no string made), else from its text.
    /// </summary>
    /// <param name="length">The summary's length in UTF-8 when it is written from its fill (the writing pass needs it), else 0.</param>
    private static int SummarySize(ClassificationResult r, out int length)
    {
        if (!r.TryGetSummaryFill(out var summary))
        {
            length = 0;
            return StringSize(r.Summary);
        }

        length = SummaryTemplate.Utf8Length(summary);
        return length == 0 ? 0 : 1 + LengthDelimitedSize(length);
    }

    /// <summary>Whether the result carries the version of the rule set whose fields are kept (its own string, nearly always).</summary>
    private static bool IsVersionOf(ClassificationResult r, RuleEvidence rules) => string.Equals(r.RuleSetVersion, rules.Version, StringComparison.Ordinal);

    /// <summary>A full-view item (<see cref="ProtoMapping.ToProto(EvidenceItem)"/>), sized as it is written below.</summary>
    private static int SizeFullEvidence(EvidenceItem e, EncodedRule? rule, out int spanSize)
    {
        var size = rule is null
            ? StringSize(e.Signal) + StringSize(e.RuleId) + DoubleSize(e.Weight) + StringSize(e.Explanation)
            : rule.Head.Length + rule.ExplanationField.Length;
        spanSize = 0;
        if (e.Span is { } span)
        {
            spanSize = SizeSpan(span);
            size += 1 + VarintSize((uint)spanSize) + spanSize;
        }

        size += EvidenceEncodings.SourceField(e.Source)?.Length ?? StringSize(e.Source);
        for (var i = 0; i < e.InteractionIds.Count; i++)
        {
            size += 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(e.InteractionIds[i]));
        }

        return size;
    }

    private static void WriteFullEvidence(ref Output output, EvidenceItem e, EncodedRule? rule, int spanSize)
    {
        WriteHead(ref output, e, rule);
        if (e.Span is { } span)
        {
            WriteSpan(ref output, span, spanSize);
        }

        if (rule is null)
        {
            output.String(Evidence.ExplanationFieldNumber, e.Explanation);
        }
        else
        {
            output.Raw(rule.ExplanationField);
        }

        WriteSource(ref output, e);
        for (var i = 0; i < e.InteractionIds.Count; i++)
        {
            output.RepeatedString(Evidence.InteractionIdsFieldNumber, e.InteractionIds[i]);
        }
    }

    /// <summary>An evidence item's span field (4), whose message is <paramref name="spanSize"/> bytes long (<see cref="SizeSpan(Span)"/>).</summary>
    private static void WriteSpan(ref Output output, Span span, int spanSize) => WriteSpan(ref output, span.Start, span.End, span.Chars, spanSize, ascii: false);

    /// <param name="ascii">Whether <paramref name="text"/> is known to be plain ASCII: then it is copied a byte per character.</param>
    private static void WriteSpan(ref Output output, int start, int end, ReadOnlySpan<char> text, int spanSize, bool ascii)
    {
        output.Tag(Evidence.SpanFieldNumber, LengthDelimited);
        output.Varint((uint)spanSize);
        if (start != 0)
        {
            output.Tag(TextSpan.StartFieldNumber, Varint);
            output.Int32(start);
        }

        if (end != 0)
        {
            output.Tag(TextSpan.EndFieldNumber, Varint);
            output.Int32(end);
        }

        if (ascii)
        {
            output.AsciiString(TextSpan.TextFieldNumber, text);
        }
        else
        {
            output.String(TextSpan.TextFieldNumber, text);
        }
    }

    /// <summary>A basic-view item (<see cref="ProtoMapping.ToBasicProto"/>: signal, rule id, weight and source), sized as it is written below.</summary>
    private static int SizeBasicEvidence(EvidenceItem e, EncodedRule? rule) =>
        (rule?.Head.Length ?? StringSize(e.Signal) + StringSize(e.RuleId) + DoubleSize(e.Weight))
        + (EvidenceEncodings.SourceField(e.Source)?.Length ?? StringSize(e.Source));

    private static void WriteBasicEvidence(ref Output output, EvidenceItem e, EncodedRule? rule)
    {
        WriteHead(ref output, e, rule);
        WriteSource(ref output, e);
    }

    /// <summary>Fields 1–3: the rule's kept bytes, or the item's own values.</summary>
    private static void WriteHead(ref Output output, EvidenceItem e, EncodedRule? rule)
    {
        if (rule is null)
        {
            output.String(Evidence.SignalFieldNumber, e.Signal);
            output.String(Evidence.RuleIdFieldNumber, e.RuleId);
            output.Double(Evidence.WeightFieldNumber, e.Weight);
        }
        else
        {
            output.Raw(rule.Head);
        }
    }

    private static void WriteSource(ref Output output, EvidenceItem e)
    {
        if (EvidenceEncodings.SourceField(e.Source) is { } source)
        {
            output.Raw(source);
        }
        else
        {
            output.String(Evidence.SourceFieldNumber, e.Source);
        }
    }

    private static int SizeSpan(Span span) => SizeSpan(span.Start, span.End, Encoding.UTF8.GetByteCount(span.Chars));

    /// <summary>A span's message, its text <paramref name="textBytes"/> long in UTF-8 (left out when empty).</summary>
    private static int SizeSpan(int start, int end, int textBytes) =>
        (start != 0 ? 1 + Int32Size(start) : 0) + (end != 0 ? 1 + Int32Size(end) : 0) + (textBytes == 0 ? 0 : 1 + LengthDelimitedSize(textBytes));

    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;

    /// <summary>A proto3 string field: left out when empty, as the generated code does.</summary>
    private static int StringSize(ReadOnlySpan<char> value) => value.Length == 0 ? 0 : 1 + LengthDelimitedSize(Encoding.UTF8.GetByteCount(value));

    /// <summary>A proto3 double field: left out when it compares equal to 0 (so also -0.0), as the generated code does.</summary>
    private static int DoubleSize(double value) => value != 0D ? 1 + sizeof(double) : 0;

    private static int LengthDelimitedSize(int length) => VarintSize((uint)length) + length;

    /// <summary>A negative int32 is written as a ten-byte varint (sign-extended to 64 bits), as protobuf does.</summary>
    private static int Int32Size(int value) => value >= 0 ? VarintSize((uint)value) : 10;

    private static int VarintSize(ulong value) => (BitOperations.Log2(value | 1) / 7) + 1;

    /// <summary>
    /// The parts of an answer of at most <see cref="StackParts"/> evidence items, kept on the stack.
    /// Holds references, so it is an inline array rather than stack memory.
    /// </summary>
    [System.Runtime.CompilerServices.InlineArray(StackParts)]
    private struct InlineParts
    {
        private object? _first;
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

        public void String(int field, ReadOnlySpan<char> value)
        {
            if (value.Length != 0)
            {
                RepeatedString(field, value);
            }
        }

        /// <summary>
        /// A string written even when empty, as an element of a repeated field is. Encoded in one pass, not counted and then
        /// encoded: its bytes go after room for the shortest length its characters allow (a UTF-8 byte per character), and
        /// only a text whose length needs more varint bytes than that (one with characters past ASCII) is moved up. The
        /// buffer holds the text and its real length (the sizing pass counted them), so the move always has room.
        /// </summary>
        public void RepeatedString(int field, ReadOnlySpan<char> value)
        {
            Tag(field, LengthDelimited);
            var room = VarintSize((uint)value.Length);
            var length = Encoding.UTF8.GetBytes(value, _buffer[(_at + room)..]);
            var needed = VarintSize((uint)length);
            if (needed != room)
            {
                _buffer.Slice(_at + room, length).CopyTo(_buffer[(_at + needed)..]);
            }

            Varint((uint)length);
            _at += length;
        }

        /// <summary>
        /// A string field of plain-ASCII text (left out when empty): its UTF-8 is a byte per character, so its length is known
        /// and it is narrowed straight into place, without the encoder's general path.
        /// </summary>
        public void AsciiString(int field, ReadOnlySpan<char> value)
        {
            if (value.Length != 0)
            {
                Tag(field, LengthDelimited);
                Varint((uint)value.Length);
                Ascii.FromUtf16(value, _buffer.Slice(_at, value.Length), out _);
                _at += value.Length;
            }
        }

        /// <summary>The summary field (left out when empty) written from what fills its template, <paramref name="length"/> bytes as <see cref="SummarySize"/> sized it.</summary>
        public void Utf8Summary(in SummaryTemplate.Fill summary, int length)
        {
            if (length != 0)
            {
                Tag(V1.Classification.SummaryFieldNumber, LengthDelimited);
                Varint((uint)length);
                _at += SummaryTemplate.WriteUtf8(summary, _buffer.Slice(_at, length));
            }
        }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[_at..]);
            _at += bytes.Length;
        }
    }
}
