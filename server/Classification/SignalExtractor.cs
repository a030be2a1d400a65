using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Advisor.Server.Classification;

/// <summary>
/// Turns free text into signals. Patterns are indexed by the characters they can start with
/// (see <see cref="PatternIndex"/>), so a description is scanned once, trying at each word start
/// only the patterns that could match there; a match preceded by a negation cue in the same
/// clause ("no contract", "we've never spoken") becomes the signal's negated counterpart, or is dropped.
/// </summary>
public sealed class SignalExtractor
{
    private readonly PatternIndex _index;
    private readonly string[] _groupSignals;

    /// <summary>Per pattern owner (as <see cref="_groupSignals"/>), the signal a negated match becomes, or null when it is dropped.</summary>
    private readonly string?[] _negatedSignals;
    private readonly HashSet<string> _negationCues;
    private readonly HashSet<char> _breakChars;
    private readonly HashSet<string> _breakWords;
    private readonly int _negationWindow;

    /// <summary>
    /// For each ASCII character, a bit per length (63 for 63 and longer) of the cues and break words starting with it, in
    /// lower case; null when a cue or break word is not plain ASCII (the filter would then have to know case folding
    /// beyond ASCII). Every match looks back up to <see cref="_negationWindow"/> words and most of them are neither, so
    /// an ASCII word whose first character and length fit none is passed over without hashing it twice.
    /// </summary>
    private readonly ulong[]? _wordFilter;

    /// <summary>
    /// The negation cues (<see cref="Cue"/>, first: a word that is both negates) and break words (<see cref="Break"/>) as
    /// keys of plain-ASCII words, so a plain word read by the look-back is found with one multiplication instead of
    /// hashed into the two sets; null when a cue or break word is not plain ASCII or is too long for a key (then each
    /// word goes through <see cref="_wordFilter"/> and the sets as before).
    /// </summary>
    private readonly ShortWordTable? _shortWords;

    private const byte Cue = 1;
    private const byte Break = 2;

    /// <summary>The clause-break characters below 128, by character; the rest are looked up in <see cref="_breakChars"/>.</summary>
    private readonly bool[] _asciiBreaks = new bool[128];

    public SignalExtractor(
        IReadOnlyList<SignalDefinition> signals,
        IEnumerable<string> negationCues,
        IEnumerable<string> clauseBreaks,
        int negationWindow)
    {
        _negationCues = new HashSet<string>(negationCues, StringComparer.OrdinalIgnoreCase);
        var breaks = clauseBreaks.ToList();
        _breakChars = breaks.Where(b => b.Trim().Length == 1 && !char.IsLetter(b.Trim()[0])).Select(b => b.Trim()[0]).Append('\n').ToHashSet();
        _breakWords = breaks.Where(b => b.Trim().Length > 1 || (b.Trim().Length == 1 && char.IsLetter(b.Trim()[0]))).Select(b => b.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        _negationWindow = negationWindow;
        foreach (var c in _breakChars.Where(c => c < 128))
        {
            _asciiBreaks[c] = true;
        }

        _wordFilter = WordFilter([.. _negationCues, .. _breakWords]);
        _shortWords = ShortWordTable.Create([.. _negationCues.Select(c => (c, Cue)), .. _breakWords.Select(b => (b, Break))]);

        var patterns = new List<(int Owner, string Pattern)>();
        var names = new List<string>();
        foreach (var signal in signals.Where(s => s.Patterns.Count > 0))
        {
            names.Add(signal.Id);
            patterns.AddRange(signal.Patterns.Select(p => (names.Count - 1, p)));
        }

        _index = new PatternIndex(patterns);
        _groupSignals = [.. names];
        var byId = signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        _negatedSignals = [.. names.Select(n => byId[n].NegatedSignal)];
        HitSignals = [.. _groupSignals.Concat(_negatedSignals.OfType<string>()).Distinct(StringComparer.Ordinal)];
        var numbers = HitSignals.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        _hitNumbers = [.. names.Select(n => numbers[n])];
        _negatedHitNumbers = [.. _negatedSignals.Select(n => n is null ? -1 : numbers[n])];
    }

    /// <summary>
    /// Every signal a text hit can name, each once: the hits of <see cref="ExtractNumbered"/> give their signal as an
    /// index into this list, so the rule set looks up what weighing one needs by number instead of hashing its name.
    /// </summary>
    internal IReadOnlyList<string> HitSignals { get; }

    /// <summary>Per pattern owner, the index in <see cref="HitSignals"/> of its signal.</summary>
    private readonly int[] _hitNumbers;

    /// <summary>Per pattern owner, the index in <see cref="HitSignals"/> of its negated signal, or -1 when a negated match is dropped.</summary>
    private readonly int[] _negatedHitNumbers;

    private const RegexOptions ScanOptions = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    /// <summary>
    /// Longest pattern a rule set may hold. Why a limit: .NET's regex parser joins adjacent literal text in time that grows
    /// with the square of the pattern's length, so a draft with one pattern of 100,000+ characters kept a request thread
    /// busy for about 50 seconds before any answer (found by the RPC fuzz tests). The longest shipped pattern is about 400.
    /// </summary>
    public const int MaxPatternLength = 2000;

    /// <summary>Checks only that a pattern is not too long to parse; returns the problem or null.</summary>
    public static string? CheckPatternLength(string pattern) =>
        pattern.Length > MaxPatternLength ? $"the pattern is {pattern.Length:N0} characters long; at most {MaxPatternLength:N0} are allowed" : null;

    /// <summary>Checks that a pattern is a valid regular expression; returns the problem or null.</summary>
    public static string? CheckPattern(string pattern)
    {
        if (CheckPatternLength(pattern) is { } tooLong)
        {
            return tooLong;
        }

        try
        {
            _ = new Regex(pattern, ScanOptions, TimeSpan.FromSeconds(1));
            return pattern.Length == 0 ? "the pattern is empty" : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    public IReadOnlyList<SignalHit> Extract(string text)
    {
        var matches = new PatternIndex.MatchBuffer(text.Length);
        try
        {
            ExtractNumbered(text, ref matches);
            var hits = new List<SignalHit>(matches.Count);
            foreach (var (signal, start, length) in matches.Items)
            {
                hits.Add(SignalHit.InText(HitSignals[signal], Span.In(text, start, start + length)));
            }

            return hits;
        }
        finally
        {
            matches.Dispose();
        }
    }

    /// <summary>
    /// The hits <see cref="Extract"/> finds, in the same order, each as (index in <see cref="HitSignals"/>, start, length)
    /// in <paramref name="hits"/> (which must be empty): no object per hit, for a caller that weighs them at once.
    /// </summary>
    internal void ExtractNumbered(string text, ref PatternIndex.MatchBuffer hits)
    {
        _index.Matches(text, ref hits);

        // The matches become hits in place: each is kept (as its signal or its negated signal) or dropped.
        var items = hits.Items;
        var kept = 0;
        var words = hits.TextIsAscii && _shortWords is not null && AsciiWords.IsSupported ? _shortWords : null;
        for (var i = 0; i < items.Length; i++)
        {
            var (owner, start, length) = items[i];
            var negated = words is not null ? IsNegatedAscii(text, start, words) : IsNegated(text, start);
            var signal = negated ? _negatedHitNumbers[owner] : _hitNumbers[owner];
            if (signal >= 0)
            {
                hits.Set(kept++, signal, start, length);
            }
        }

        hits.Truncate(kept);
    }

    /// <summary>
    /// Looks back up to the negation window's number of words, stopping at a clause break
    /// (punctuation such as "," or a word such as "but"): "no contract, but weekly calls" negates only the contract.
    /// </summary>
    private bool IsNegated(string text, int index)
    {
        var words = 0;
        var end = index;
        var table = _shortWords;
        while (end > 0 && words < _negationWindow)
        {
            while (end > 0 && !IsLookBackWordChar(text[end - 1]))
            {
                var c = text[end - 1];
                if (c < 128 ? _asciiBreaks[c] : _breakChars.Contains(c))
                {
                    return false;
                }

                end--;
            }

            // The word, read backwards; while it is plain ASCII its key for the short-word table is built as it is read.
            var start = end;
            ulong key = 0;
            var plain = true;
            while (start > 0)
            {
                var c = text[start - 1];
                if (c < 128 && ShortWordTable.IsKeyChar(c))
                {
                    key = ShortWordTable.Append(key, c);
                }
                else if (c >= 128 && (char.IsLetterOrDigit(c) || c == '\u2019'))
                {
                    plain = false;
                }
                else
                {
                    break;
                }

                start--;
            }

            if (start == end)
            {
                return false;
            }

            var length = end - start;
            if (plain && table is not null)
            {
                if (DecidePlainWord(text, end, length, key, table) is { } decided)
                {
                    return decided;
                }
            }
            else
            {
                var word = text.AsSpan(start, length);
                if (EndsInNot(word))
                {
                    return true;
                }

                if (MayBeListed(word))
                {
                    if (_negationCues.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word))
                    {
                        return true;
                    }

                    if (_breakWords.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word))
                    {
                        return false;
                    }
                }
            }

            words++;
            end = start;
        }

        return false;
    }

    /// <summary>
    /// <see cref="IsNegated"/> for plain-ASCII text whose cues and break words are all in <paramref name="table"/>, deciding
    /// exactly as it does. Why a second reading: the look-back read every word a character at a time (a bit test and a
    /// key step per character, then a loop exit that depends on the word's length), and with only ~7 matches per
    /// description each look-back ran with cold branch history: 13.5 % of a description's classification in process
    /// (perf, docs/benchmarks.md). Here a word of up to eight characters is found and keyed from one load of the eight
    /// characters before it (<see cref="AsciiWords"/>), with no loop over its characters.
    /// </summary>
    private bool IsNegatedAscii(string text, int index, ShortWordTable table)
    {
        var words = 0;
        var end = index;
        while (end > 0 && words < _negationWindow)
        {
            // The characters between this word and the one read before it: a clause break ends the look-back.
            while (!ShortWordTable.IsKeyChar(text[end - 1]))
            {
                if (_asciiBreaks[text[end - 1]] || --end == 0)
                {
                    return false;
                }
            }

            var (length, key) = AsciiWords.Before(text, end);
            if (DecidePlainWord(text, end, length, key, table) is { } decided)
            {
                return decided;
            }

            words++;
            end -= length;
        }

        return false;
    }

    /// <summary>
    /// What a plain word of <paramref name="length"/> characters ending at <paramref name="end"/>, with its
    /// <see cref="ShortWordTable"/> key, decides for both look-backs: true when it negates, false when it breaks the clause,
    /// null when it does neither and the look-back reads on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool? DecidePlainWord(string text, int end, int length, ulong key, ShortWordTable table)
    {
        // "n't" in any case ends a negating word; a plain word longer than a key is neither cue nor break word.
        if (length >= 3 && (text[end - 1] | 0x20) == 't' && text[end - 2] == '\'' && (text[end - 3] | 0x20) == 'n')
        {
            return true;
        }

        return (length <= ShortWordTable.MaxLength ? table.Find(key) : 0) switch
        {
            Cue => true,
            Break => false,
            _ => null,
        };
    }

    /// <summary>A character of a word as the look-back reads words: <see cref="TextMatching.IsWordChar"/> or the typographic apostrophe.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool IsLookBackWordChar(char c) => c < 128 ? ShortWordTable.IsKeyChar(c) : char.IsLetterOrDigit(c) || c == '\u2019';

    /// <summary>"n't" and "n’t" (any case) end a negating word: "don't", "hasn’t".</summary>
    private static bool EndsInNot(ReadOnlySpan<char> word) =>
        word.Length >= 3 && (word[^1] is 't' or 'T' or >= '\u0080')
        && (word.EndsWith("n't", StringComparison.OrdinalIgnoreCase) || word.EndsWith("n\u2019t", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the word could be a negation cue or a break word (see <see cref="_wordFilter"/>); false only when it cannot.</summary>
    private bool MayBeListed(ReadOnlySpan<char> word)
    {
        if (_wordFilter is not { } filter || !System.Text.Ascii.IsValid(word))
        {
            return true;
        }

        var first = word[0] is >= 'A' and <= 'Z' ? (char)(word[0] | 0x20) : word[0];
        return (filter[first] & (1UL << Math.Min(word.Length, 63))) != 0;
    }

    /// <summary>The filter of <see cref="_wordFilter"/> over <paramref name="words"/>; null if any is not plain ASCII.</summary>
    private static ulong[]? WordFilter(IEnumerable<string> words)
    {
        var filter = new ulong[128];
        foreach (var word in words)
        {
            if (word.Length == 0)
            {
                continue;
            }

            if (!System.Text.Ascii.IsValid(word))
            {
                return null;
            }

            filter[char.ToLowerInvariant(word[0])] |= 1UL << Math.Min(word.Length, 63);
        }

        return filter;
    }
}
