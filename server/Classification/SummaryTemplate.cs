using System.Text;

namespace Advisor.Server.Classification;

/// <summary>
/// One kind's summary template (rules.yaml's <c>summaries</c>) cut once per rule set into its literal text and its
/// placeholders, so a classification writes its summary in one pass into one string. Filling it placeholder by
/// placeholder (Contains and Replace each, and a joined string of labels per placeholder) made two to three strings per
/// call and scanned the template once per placeholder; every description and profile call writes a summary.
/// </summary>
internal sealed class SummaryTemplate
{
    public const string Reasons = "{reasons}";
    public const string ClientReasons = "{client_reasons}";
    public const string CustomerReasons = "{customer_reasons}";
    public const string Industry = "{industry}";

    /// <summary>What <see cref="Reasons"/> becomes when no evidence of the side has a label.</summary>
    public const string NoReasons = "nothing specific";

    /// <summary>What <see cref="Industry"/> becomes without an industry.</summary>
    public const string NoIndustry = "the industry";

    private SummaryTemplate(string text, Part[]? parts)
    {
        Text = text;
        Parts = parts;
        WritesUtf8 = parts is not null && !HasSurrogate(text);
        foreach (var part in parts ?? [])
        {
            Uses |= part.Placeholder;
        }
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>
    /// The template in order, or null when it cannot be filled in one pass with the same result as replacing its
    /// placeholders one after another: when its literal text holds a brace outside the four placeholders, a
    /// replacement could join with it into a placeholder a later replacement would then fill.
    /// </summary>
    public Part[]? Parts { get; }

    /// <summary>Whether a summary filled from <see cref="Parts"/> may be written by <see cref="WriteUtf8"/> (its text holds no surrogate).</summary>
    public bool WritesUtf8 { get; }

    /// <summary>The placeholders the template uses.</summary>
    public Placeholders Uses { get; }

    [Flags]
    public enum Placeholders
    {
        None = 0,
        Reasons = 1,
        ClientReasons = 2,
        CustomerReasons = 4,
        Industry = 8,
    }

    /// <summary>Literal text (<see cref="Placeholder"/> None) or one placeholder.</summary>
    public readonly record struct Part(string Text, Placeholders Placeholder)
    {
        /// <summary><see cref="Text"/> in UTF-8, encoded once with the template: what <see cref="WriteUtf8"/> copies.</summary>
        public byte[] Utf8 { get; } = Encoding.UTF8.GetBytes(Text);
    }

    /// <summary>
    /// A signal's label as a summary names it, with its UTF-8 encoded once per rule set, so that an answer writes the summary
    /// straight as UTF-8 (<see cref="WriteUtf8"/>) without making it a string first.
    /// </summary>
    public sealed class Label(string text)
    {
        public string Text { get; } = text;

        public byte[] Utf8 { get; } = Encoding.UTF8.GetBytes(text);
    }

    private static readonly byte[] NoReasonsUtf8 = Encoding.UTF8.GetBytes(NoReasons);
    private static readonly byte[] CommaUtf8 = ", "u8.ToArray();
    private static readonly byte[] AndUtf8 = " and "u8.ToArray();

    public static SummaryTemplate Parse(string template)
    {
        var parts = new List<Part>();
        var literal = 0;
        var at = 0;
        while (at < template.Length)
        {
            var placeholder = template.AsSpan(at) switch
            {
                var rest when rest.StartsWith(Reasons, StringComparison.Ordinal) => (Placeholders.Reasons, Reasons.Length),
                var rest when rest.StartsWith(ClientReasons, StringComparison.Ordinal) => (Placeholders.ClientReasons, ClientReasons.Length),
                var rest when rest.StartsWith(CustomerReasons, StringComparison.Ordinal) => (Placeholders.CustomerReasons, CustomerReasons.Length),
                var rest when rest.StartsWith(Industry, StringComparison.Ordinal) => (Placeholders.Industry, Industry.Length),
                _ => (Placeholders.None, 0),
            };
            if (placeholder.Item1 == Placeholders.None)
            {
                if (template[at] is '{' or '}')
                {
                    return new SummaryTemplate(template, null);
                }

                at++;
                continue;
            }

            if (at > literal)
            {
                parts.Add(new Part(template[literal..at], Placeholders.None));
            }

            parts.Add(new Part("", placeholder.Item1));
            at += placeholder.Item2;
            literal = at;
        }

        if (at > literal)
        {
            parts.Add(new Part(template[literal..at], Placeholders.None));
        }

        return new SummaryTemplate(template, [.. parts]);
    }

    /// <summary>Up to three labels joined as "a", "a and b" or "a, b and c".</summary>
    public readonly record struct Labels(Label? First, Label? Second, Label? Third)
    {
        public int Length => Third is not null ? First!.Text.Length + 2 + Second!.Text.Length + 5 + Third.Text.Length
            : Second is not null ? First!.Text.Length + 5 + Second.Text.Length
            : First?.Text.Length ?? 0;

        /// <summary>The joined labels' length in UTF-8 (the separators are ASCII).</summary>
        public int Utf8Length => Third is not null ? First!.Utf8.Length + 2 + Second!.Utf8.Length + 5 + Third.Utf8.Length
            : Second is not null ? First!.Utf8.Length + 5 + Second.Utf8.Length
            : First?.Utf8.Length ?? 0;

        public int WriteTo(Span<char> destination)
        {
            var at = Copy(First?.Text, destination, 0);
            if (Third is not null)
            {
                at = Copy(", ", destination, at);
                at = Copy(Second!.Text, destination, at);
                at = Copy(" and ", destination, at);
                return Copy(Third.Text, destination, at);
            }

            if (Second is not null)
            {
                at = Copy(" and ", destination, at);
                return Copy(Second.Text, destination, at);
            }

            return at;
        }

        /// <summary>The joined labels in UTF-8, as <see cref="WriteTo"/> writes them in UTF-16.</summary>
        public int WriteUtf8(Span<byte> destination)
        {
            var at = Copy(First?.Utf8, destination, 0);
            if (Third is not null)
            {
                at = Copy(CommaUtf8, destination, at);
                at = Copy(Second!.Utf8, destination, at);
                at = Copy(AndUtf8, destination, at);
                return Copy(Third.Utf8, destination, at);
            }

            if (Second is not null)
            {
                at = Copy(AndUtf8, destination, at);
                return Copy(Second.Utf8, destination, at);
            }

            return at;
        }

        private static int Copy(byte[]? bytes, Span<byte> destination, int at)
        {
            if (bytes is null)
            {
                return at;
            }

            bytes.CopyTo(destination[at..]);
            return at + bytes.Length;
        }

        private static int Copy(string? text, Span<char> destination, int at)
        {
            if (text is null)
            {
                return at;
            }

            text.CopyTo(destination[at..]);
            return at + text.Length;
        }
    }

    /// <summary>The labels and industry title one summary is filled with.</summary>
    public readonly record struct Fill(Part[] Parts, Labels Reasons, Labels ClientReasons, Labels CustomerReasons, string Industry);

    /// <summary>
    /// The template filled in one pass: <paramref name="fill"/>'s <see cref="Fill.Parts"/> must be <see cref="Parts"/>, and
    /// no label nor the industry title may hold a brace (<see cref="HasBrace"/>), or the result could differ from
    /// replacing the placeholders one after another.
    /// </summary>
    public static string Write(in Fill fill)
    {
        var length = 0;
        foreach (var part in fill.Parts)
        {
            length += part.Placeholder switch
            {
                Placeholders.None => part.Text.Length,
                Placeholders.Reasons => fill.Reasons.Length == 0 ? NoReasons.Length : fill.Reasons.Length,
                Placeholders.ClientReasons => fill.ClientReasons.Length,
                Placeholders.CustomerReasons => fill.CustomerReasons.Length,
                _ => fill.Industry.Length,
            };
        }

        return string.Create(length, fill, static (destination, fill) =>
        {
            var at = 0;
            foreach (var part in fill.Parts)
            {
                switch (part.Placeholder)
                {
                    case Placeholders.None:
                        part.Text.CopyTo(destination[at..]);
                        at += part.Text.Length;
                        break;
                    case Placeholders.Reasons when fill.Reasons.Length == 0:
                        NoReasons.CopyTo(destination[at..]);
                        at += NoReasons.Length;
                        break;
                    case Placeholders.Reasons:
                        at += fill.Reasons.WriteTo(destination[at..]);
                        break;
                    case Placeholders.ClientReasons:
                        at += fill.ClientReasons.WriteTo(destination[at..]);
                        break;
                    case Placeholders.CustomerReasons:
                        at += fill.CustomerReasons.WriteTo(destination[at..]);
                        break;
                    default:
                        fill.Industry.CopyTo(destination[at..]);
                        at += fill.Industry.Length;
                        break;
                }
            }
        });
    }

    /// <summary>The length in UTF-8 of what <see cref="Write"/> makes of <paramref name="fill"/>.</summary>
    public static int Utf8Length(in Fill fill)
    {
        var length = 0;
        foreach (var part in fill.Parts)
        {
            length += part.Placeholder switch
            {
                Placeholders.None => part.Utf8.Length,
                Placeholders.Reasons => fill.Reasons.Utf8Length == 0 ? NoReasonsUtf8.Length : fill.Reasons.Utf8Length,
                Placeholders.ClientReasons => fill.ClientReasons.Utf8Length,
                Placeholders.CustomerReasons => fill.CustomerReasons.Utf8Length,
                _ => Encoding.UTF8.GetByteCount(fill.Industry),
            };
        }

        return length;
    }

    /// <summary>
    /// What <see cref="Write"/> makes of <paramref name="fill"/>, written straight in UTF-8 into <paramref name="destination"/>
    /// (at least <see cref="Utf8Length"/> bytes) from the kept encodings of the template's text and the labels; returns the
    /// bytes written. Why: every description and profile answer carries a summary of ~100–150 characters that was made a
    /// string per call only to be encoded once (docs/benchmarks.md).
    /// </summary>
    public static int WriteUtf8(in Fill fill, Span<byte> destination)
    {
        var at = 0;
        foreach (var part in fill.Parts)
        {
            switch (part.Placeholder)
            {
                case Placeholders.None:
                    part.Utf8.CopyTo(destination[at..]);
                    at += part.Utf8.Length;
                    break;
                case Placeholders.Reasons when fill.Reasons.Utf8Length == 0:
                    NoReasonsUtf8.CopyTo(destination[at..]);
                    at += NoReasonsUtf8.Length;
                    break;
                case Placeholders.Reasons:
                    at += fill.Reasons.WriteUtf8(destination[at..]);
                    break;
                case Placeholders.ClientReasons:
                    at += fill.ClientReasons.WriteUtf8(destination[at..]);
                    break;
                case Placeholders.CustomerReasons:
                    at += fill.CustomerReasons.WriteUtf8(destination[at..]);
                    break;
                default:
                    at += Encoding.UTF8.GetBytes(fill.Industry, destination[at..]);
                    break;
            }
        }

        return at;
    }

    /// <summary>
    /// Whether <paramref name="text"/> holds a UTF-16 surrogate. Why it matters: <see cref="WriteUtf8"/> encodes the summary's
    /// pieces apart, and a pair split across two pieces (or a lone surrogate) would encode otherwise than in the whole string;
    /// a summary with any piece holding one is made a string and encoded whole, as before.
    /// </summary>
    public static bool HasSurrogate(string text) => text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF');

    public static bool HasBrace(string text) => text.AsSpan().IndexOfAny('{', '}') >= 0;
}
