using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>
/// A span of the input text, in UTF-16 offsets. Equal to another span with the same offsets and the same text, as the
/// record it was.
/// </summary>
public readonly struct Span : IEquatable<Span>
{
    /// <summary>
    /// The span's text when it is <c>End - Start</c> characters long; otherwise the text the span was cut from
    /// (<see cref="In"/>), which <see cref="Text"/> cuts on demand. One field rather than two, so a span (and every
    /// hit and evidence item holding one) stays the size it was.
    /// </summary>
    private readonly string? _chars;

    /// <param name="text">The spanned text, <c>end - start</c> characters long.</param>
    public Span(int start, int end, string text)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(text.Length, end - start);
        Start = start;
        End = end;
        _chars = text;
    }

    private Span(string source, int start, int end)
    {
        Start = start;
        End = end;
        _chars = source;
    }

    public int Start { get; }

    public int End { get; }

    /// <summary>
    /// The spanned text. A span made with <see cref="In"/> cuts it from its source on each read: a description's
    /// hits are many and most of their text is never read (ClassifyBuyer's basic view carries none; repeated signals
    /// and unknown ones give no evidence), so cutting it for every hit made copies for nothing.
    /// </summary>
    public string Text => _chars is null ? "" : _chars.Length == End - Start ? _chars : _chars.Substring(Start, End - Start);

    /// <summary>The spanned text without cutting it from its source (for a writer that only copies it).</summary>
    public ReadOnlySpan<char> Chars => _chars is null ? default : _chars.Length == End - Start ? _chars.AsSpan() : _chars.AsSpan(Start, End - Start);

    /// <summary>The span of <paramref name="source"/> from <paramref name="start"/> to <paramref name="end"/>, its text cut only when read.</summary>
    public static Span In(string source, int start, int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(end, start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, source.Length);
        return new Span(source, start, end);
    }

    public static bool operator ==(Span left, Span right) => left.Equals(right);

    public static bool operator !=(Span left, Span right) => !left.Equals(right);

    public bool Equals(Span other) => Start == other.Start && End == other.End && Chars.SequenceEqual(other.Chars);

    public override bool Equals(object? obj) => obj is Span other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Start, End, string.GetHashCode(Chars, StringComparison.Ordinal));

    public void Deconstruct(out int start, out int end, out string text) => (start, end, text) = (Start, End, Text);

    public override string ToString() => $"Span {{ Start = {Start}, End = {End}, Text = {Text} }}";
}

/// <summary>
/// A signal found about a buyer: in a description (with its span), in a typed profile,
/// or in a registry history (with the interactions behind it). The classifier only sees these.
/// </summary>
public sealed record SignalHit(string Signal, Span? Span, string Source, IReadOnlyList<string> InteractionIds)
{
    public const string FromDescription = "description";
    public const string FromProfile = "profile";
    public const string FromHistory = "history";
    public const string FromIndustry = "industry";

    public static SignalHit InText(string signal, Span span) => new(signal, span, FromDescription, []);

    public static SignalHit InProfile(string signal) => new(signal, null, FromProfile, []);
}

/// <summary>One weighed reason: positive weight leans client, negative leans customer.</summary>
public sealed record EvidenceItem(
    string Signal,
    string RuleId,
    double Weight,
    Span? Span,
    string Explanation,
    string Source,
    IReadOnlyList<string> InteractionIds);

/// <summary>
/// A description's evidence with its spans, as the classifier gives it to a caller that shows spans (ClassifyBuyer's full
/// view): per item the number of the item its rule set made once for that rule (<see cref="CompiledRuleSet.SharedEvidenceItems"/>,
/// no span) and where the hit's span is in the description (held once), in one array of 12-byte structs. Why not an <see cref="EvidenceItem"/> per item:
/// only the span differs per call, and an 88-byte record per hit per call was a sixth of the server's allocations under the
/// full view (docs/benchmarks.md); the answer writer reads <see cref="Entries"/> and finds what it keeps for each shared
/// item by its number, without a lookup. Reading the list by index or enumerating it makes each item on demand (equal
/// every time, not the same object), which only the non-gRPC paths do (Ask, the backtester, the tests).
/// </summary>
public sealed class DescriptionEvidence : IReadOnlyList<EvidenceItem>
{
    private readonly DescribedItem[] _entries;

    /// <param name="shared">The rule set's shared items that <paramref name="entries"/> number.</param>
    /// <param name="text">The description the entries' spans are in.</param>
    /// <param name="entries">The items, strongest first.</param>
    internal DescriptionEvidence(IReadOnlyList<EvidenceItem> shared, string text, DescribedItem[] entries) => (Shared, Text, _entries) = (shared, text, entries);

    /// <summary>The description the entries' spans are in.</summary>
    public string Text { get; }

    /// <summary>The items <see cref="Entries"/> number (the rule set's <see cref="CompiledRuleSet.SharedEvidenceItems"/>).</summary>
    public IReadOnlyList<EvidenceItem> Shared { get; }

    /// <summary>The items, strongest first.</summary>
    public ReadOnlySpan<DescribedItem> Entries => _entries;

    public int Count => _entries.Length;

    /// <summary>The item as an <see cref="EvidenceItem"/>: the shared item, with the hit's span when it has one.</summary>
    public EvidenceItem this[int index]
    {
        get
        {
            var entry = _entries[index];
            var item = Shared[entry.Shared];
            return SpanOf(entry) is { } span ? item with { Span = span } : item;
        }
    }

    /// <summary>The span of <paramref name="entry"/> in <see cref="Text"/>, or null when it has none.</summary>
    public Span? SpanOf(in DescribedItem entry) => entry.Start == DescribedItem.NoSpan ? null : Span.In(Text, entry.Start, entry.End);

    public IEnumerator<EvidenceItem> GetEnumerator()
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// One item of <see cref="DescriptionEvidence"/>: the number of its shared item, and where its hit's span starts and ends
/// in the description (<see cref="NoSpan"/> for an industry prior's). Offsets rather than a <see cref="Span"/>, which holds
/// the text too: 12 bytes per item rather than 32, the text held once by the list.
/// </summary>
public readonly record struct DescribedItem(int Shared, int Start, int End)
{
    /// <summary>The <see cref="Start"/> and <see cref="End"/> of an item without a span.</summary>
    public const int NoSpan = -1;
}

/// <summary>
/// The classifier's decision with everything needed to explain it. Equal to another with the same values (the summary by
/// its text, however it is kept), as the positional record it was.
/// </summary>
public sealed record ClassificationResult(
    Kind Kind,
    double Confidence,
    double Score,
    double ClientWeight,
    double CustomerWeight,
    IReadOnlyList<EvidenceItem> Evidence,
    IReadOnlyList<string> OpenQuestions,
    string Summary,
    string RuleSetVersion,
    KnowledgeTopic? Industry,
    StrategyStage Stage)
{
    /// <summary>The summary's text, made from <see cref="_summaryFill"/> on first read when the classifier kept that instead.</summary>
    private string? _summary = Summary;

    /// <summary>
    /// What fills the summary's template (<see cref="SummaryTemplate.Fill.Parts"/> null when the summary is kept as text). Why:
    /// ClassifyBuyer's answer writes the summary straight in UTF-8 from its template's and labels' kept bytes
    /// (<see cref="TryGetSummaryFill"/>), and making it a string per call only to be encoded once was ~1 % of the server's
    /// CPU under load and most of its string allocation besides the id and the request's text (docs/benchmarks.md).
    /// </summary>
    private readonly SummaryTemplate.Fill _summaryFill;

    /// <summary>A result whose summary is kept as what fills its template: made a string only when <see cref="Summary"/> is read.</summary>
    internal ClassificationResult(
        Kind kind, double confidence, double score, double clientWeight, double customerWeight, IReadOnlyList<EvidenceItem> evidence,
        IReadOnlyList<string> openQuestions, in SummaryTemplate.Fill summary, string ruleSetVersion, KnowledgeTopic? industry, StrategyStage stage)
        : this(kind, confidence, score, clientWeight, customerWeight, evidence, openQuestions, null!, ruleSetVersion, industry, stage) =>
        _summaryFill = summary;

    public string Summary
    {
        // A result made with a null summary (outside the classifier) reads null, as the positional record's did.
        get => _summary ??= _summaryFill.Parts is null ? null! : SummaryTemplate.Write(_summaryFill);
        init => (_summary, _summaryFill) = (value, default);
    }

    /// <summary>What fills the summary's template, when it was kept so: then <see cref="SummaryTemplate.WriteUtf8"/> gives <see cref="Summary"/> in UTF-8.</summary>
    internal bool TryGetSummaryFill(out SummaryTemplate.Fill fill)
    {
        fill = _summaryFill;
        return fill.Parts is not null;
    }

    public bool Equals(ClassificationResult? other) =>
        ReferenceEquals(this, other) || (other is not null
            && Kind == other.Kind
            && EqualityComparer<double>.Default.Equals(Confidence, other.Confidence)
            && EqualityComparer<double>.Default.Equals(Score, other.Score)
            && EqualityComparer<double>.Default.Equals(ClientWeight, other.ClientWeight)
            && EqualityComparer<double>.Default.Equals(CustomerWeight, other.CustomerWeight)
            && EqualityComparer<IReadOnlyList<EvidenceItem>>.Default.Equals(Evidence, other.Evidence)
            && EqualityComparer<IReadOnlyList<string>>.Default.Equals(OpenQuestions, other.OpenQuestions)
            && string.Equals(Summary, other.Summary, StringComparison.Ordinal)
            && string.Equals(RuleSetVersion, other.RuleSetVersion, StringComparison.Ordinal)
            && EqualityComparer<KnowledgeTopic?>.Default.Equals(Industry, other.Industry)
            && Stage == other.Stage);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(Kind);
        hash.Add(Confidence);
        hash.Add(Score);
        hash.Add(ClientWeight);
        hash.Add(CustomerWeight);
        hash.Add(Evidence);
        hash.Add(OpenQuestions);
        hash.Add(Summary, StringComparer.Ordinal);
        hash.Add(RuleSetVersion, StringComparer.Ordinal);
        hash.Add(Industry);
        hash.Add(Stage);
        return hash.ToHashCode();
    }
}
