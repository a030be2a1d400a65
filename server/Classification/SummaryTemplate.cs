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
    public readonly record struct Part(string Text, Placeholders Placeholder);

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
    public readonly record struct Labels(string? First, string? Second, string? Third)
    {
        public int Length => Third is not null ? First!.Length + 2 + Second!.Length + 5 + Third.Length
            : Second is not null ? First!.Length + 5 + Second.Length
            : First?.Length ?? 0;

        public int WriteTo(Span<char> destination)
        {
            var at = Copy(First, destination, 0);
            if (Third is not null)
            {
                at = Copy(", ", destination, at);
                at = Copy(Second, destination, at);
                at = Copy(" and ", destination, at);
                return Copy(Third, destination, at);
            }

            if (Second is not null)
            {
                at = Copy(" and ", destination, at);
                return Copy(Second, destination, at);
            }

            return at;
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

    public static bool HasBrace(string text) => text.AsSpan().IndexOfAny('{', '}') >= 0;
}
