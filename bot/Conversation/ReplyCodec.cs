using System.Buffers.Binary;
using System.Text;

namespace Advisor.Bot.Conversation;

/// <summary>
/// A remembered reply as bytes: every string in UTF-8 behind its length, lists behind their count. <see cref="ReplyMemory"/>
/// keeps replies this way because a reply as objects is some sixty of them (strings, lists, records, ~10 KB), and ten
/// thousand remembered replies were most of what every garbage collection had to copy and trace: each new reply
/// survived its first collections and was promoted through gen1 into gen2 (docs/benchmarks.md, "Slack p99: the
/// remembered replies"). A byte array holds no references, so the collector neither traces it nor looks inside it.
/// The reply's id is the memory's key and is not stored here.
/// </summary>
internal static class ReplyCodec
{
    /// <summary>An upper bound of <see cref="Encode"/>'s length, from the strings' lengths alone.</summary>
    public static int MaxLength(Reply reply, ReplySubject subject)
    {
        var writer = new Writer([], measuring: true);
        Write(ref writer, reply, subject);
        return writer.Length;
    }

    /// <summary>Writes the reply and its subject into <paramref name="destination"/> (at least <see cref="MaxLength"/> long); returns the length written.</summary>
    public static int Encode(Span<byte> destination, Reply reply, ReplySubject subject)
    {
        var writer = new Writer(destination, measuring: false);
        Write(ref writer, reply, subject);
        return writer.Length;
    }

    public static RememberedReply Decode(ReadOnlySpan<byte> source, string id)
    {
        var reader = new Reader(source);
        var reply = new Reply
        {
            Id = id,
            Status = (ReplyStatus)reader.Int(),
            Title = reader.String(),
            Text = reader.String(),
            Kind = (ReplyKind)reader.Int(),
            Confidence = reader.Int() == 1 ? reader.Double() : null,
            Facts = reader.List(static (ref Reader r) => new ReplyFact(r.String(), r.String())),
            Sections = reader.List(static (ref Reader r) => new ReplySection(r.String(), r.List(static (ref Reader s) => s.String()))),
            Buttons = reader.List(static (ref Reader r) => new ReplyButton(r.String(), r.String(), (ReplyButtonStyle)r.Int())),
            FollowUps = reader.List(static (ref Reader r) => r.String()),
        };
        var subject = new ReplySubject
        {
            Question = reader.String(),
            Kind = (ReplyKind)reader.Int(),
            Industry = reader.String(),
            ClassificationId = reader.String(),
            BuyerId = reader.String(),
            Evidence = reader.List(static (ref Reader r) => r.String()),
        };
        return new RememberedReply(reply, subject);
    }

    // One order of fields for measuring and writing; Decode reads them back in the same order.
    private static void Write(ref Writer w, Reply reply, ReplySubject subject)
    {
        w.Int((int)reply.Status);
        w.String(reply.Title);
        w.String(reply.Text);
        w.Int((int)reply.Kind);
        w.Int(reply.Confidence is null ? 0 : 1);
        if (reply.Confidence is { } confidence)
        {
            w.Double(confidence);
        }

        w.Int(reply.Facts.Count);
        foreach (var fact in reply.Facts)
        {
            w.String(fact.Label);
            w.String(fact.Value);
        }

        w.Int(reply.Sections.Count);
        foreach (var section in reply.Sections)
        {
            w.String(section.Heading);
            w.Strings(section.Items);
        }

        w.Int(reply.Buttons.Count);
        foreach (var button in reply.Buttons)
        {
            w.String(button.Label);
            w.String(button.ActionId);
            w.Int((int)button.Style);
        }

        w.Strings(reply.FollowUps);
        w.String(subject.Question);
        w.Int((int)subject.Kind);
        w.String(subject.Industry);
        w.String(subject.ClassificationId);
        w.String(subject.BuyerId);
        w.Strings(subject.Evidence);
    }

    private ref struct Writer(Span<byte> destination, bool measuring)
    {
        private readonly Span<byte> _destination = destination;

        public int Length { get; private set; }

        public void Int(int value)
        {
            if (!measuring)
            {
                BinaryPrimitives.WriteInt32LittleEndian(_destination[Length..], value);
            }

            Length += sizeof(int);
        }

        public void Double(double value)
        {
            if (!measuring)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(_destination[Length..], value);
            }

            Length += sizeof(double);
        }

        public void String(string? value)
        {
            value ??= "";
            if (measuring)
            {
                Length += sizeof(int) + Encoding.UTF8.GetMaxByteCount(value.Length);
                return;
            }

            var written = Encoding.UTF8.GetBytes(value, _destination[(Length + sizeof(int))..]);
            BinaryPrimitives.WriteInt32LittleEndian(_destination[Length..], written);
            Length += sizeof(int) + written;
        }

        public void Strings(IReadOnlyList<string> values)
        {
            Int(values.Count);
            foreach (var value in values)
            {
                String(value);
            }
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> source)
    {
        private readonly ReadOnlySpan<byte> _source = source;
        private int _position;

        public delegate T Item<T>(ref Reader reader);

        public int Int()
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(_source[_position..]);
            _position += sizeof(int);
            return value;
        }

        public double Double()
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(_source[_position..]);
            _position += sizeof(double);
            return value;
        }

        public string String()
        {
            var length = Int();
            var value = Encoding.UTF8.GetString(_source.Slice(_position, length));
            _position += length;
            return value;
        }

        public List<T> List<T>(Item<T> item)
        {
            var count = Int();
            var list = new List<T>(count);
            for (var i = 0; i < count; i++)
            {
                list.Add(item(ref this));
            }

            return list;
        }
    }
}
