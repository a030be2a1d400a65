using System.Text;
using System.Text.RegularExpressions;

namespace Advisor.Server.Classification;

/// <summary>
/// Turns free text into signals. Every pattern of every signal is compiled into one regular
/// expression, so a description is scanned once; a match preceded by a negation cue in the same
/// clause ("no contract", "we've never spoken") becomes the signal's negated counterpart, or is dropped.
/// </summary>
public sealed class SignalExtractor
{
    private readonly Regex _scanner;
    private readonly string[] _groupSignals;
    private readonly int[] _groupNumbers;
    private readonly IReadOnlyDictionary<string, SignalDefinition> _signals;
    private readonly HashSet<string> _negationCues;
    private readonly string[] _clauseBreaks;
    private readonly int _negationWindow;

    public SignalExtractor(
        IReadOnlyList<SignalDefinition> signals,
        IEnumerable<string> negationCues,
        IEnumerable<string> clauseBreaks,
        int negationWindow)
    {
        _signals = signals.ToDictionary(s => s.Id, StringComparer.Ordinal);
        _negationCues = new HashSet<string>(negationCues, StringComparer.OrdinalIgnoreCase);
        _clauseBreaks = clauseBreaks.ToArray();
        _negationWindow = negationWindow;

        var pattern = new StringBuilder();
        var names = new List<string>();
        foreach (var signal in signals.Where(s => s.Patterns.Count > 0))
        {
            if (pattern.Length > 0)
            {
                pattern.Append('|');
            }

            var name = "s" + names.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            names.Add(signal.Id);
            pattern.Append("(?<").Append(name).Append(">(?:")
                .AppendJoin(")|(?:", signal.Patterns)
                .Append("))");
        }

        // Whole words only; the lookarounds (unlike \b) also work for patterns that end in punctuation.
        _scanner = new Regex(
            @"(?<![\p{L}\p{N}])(?:" + (pattern.Length == 0 ? "(?!)" : pattern.ToString()) + @")(?![\p{L}\p{N}])",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.ExplicitCapture,
            TimeSpan.FromSeconds(1));
        _groupSignals = [.. names];
        _groupNumbers = names.Select((_, i) => _scanner.GroupNumberFromName("s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();

        // The compiled scanner is turned into machine code on its first use, which can take longer than the
        // match timeout when several rule sets load at once. Pay that once here rather than in the first request.
        try
        {
            _ = _scanner.Match("no contract");
        }
        catch (RegexMatchTimeoutException)
        {
            // The compilation has still happened; later matches run at full speed.
        }
    }

    /// <summary>Checks that a pattern is a valid regular expression; returns the problem or null.</summary>
    public static string? CheckPattern(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return pattern.Length == 0 ? "the pattern is empty" : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    public IReadOnlyList<SignalHit> Extract(string text)
    {
        var hits = new List<SignalHit>();
        for (var match = _scanner.Match(text); match.Success; match = match.NextMatch())
        {
            var signal = SignalOf(match);
            if (signal is null)
            {
                continue;
            }

            if (IsNegated(text, match.Index))
            {
                signal = _signals[signal].NegatedSignal;
                if (signal is null)
                {
                    continue;
                }
            }

            hits.Add(SignalHit.InText(signal, new Span(match.Index, match.Index + match.Length, match.Value)));
        }

        return hits;
    }

    private string? SignalOf(Match match)
    {
        for (var i = 0; i < _groupNumbers.Length; i++)
        {
            if (match.Groups[_groupNumbers[i]].Success)
            {
                return _groupSignals[i];
            }
        }

        return null;
    }

    /// <summary>Looks back up to the negation window's number of words, stopping at the start of the clause.</summary>
    private bool IsNegated(string text, int index)
    {
        var clauseStart = 0;
        foreach (var separator in _clauseBreaks)
        {
            var at = text.LastIndexOf(separator, Math.Max(0, index - 1), StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && at + separator.Length <= index)
            {
                clauseStart = Math.Max(clauseStart, at + separator.Length);
            }
        }

        var words = 0;
        var end = index;
        while (end > clauseStart && words < _negationWindow)
        {
            while (end > clauseStart && !TextMatching.IsWordChar(text[end - 1]))
            {
                end--;
            }

            var start = end;
            while (start > clauseStart && (TextMatching.IsWordChar(text[start - 1]) || text[start - 1] == '\u2019'))
            {
                start--;
            }

            if (start == end)
            {
                break;
            }

            var word = text.AsSpan(start, end - start);
            if (IsCue(word))
            {
                return true;
            }

            words++;
            end = start;
        }

        return false;
    }

    private bool IsCue(ReadOnlySpan<char> word)
    {
        if (word.EndsWith("n't", StringComparison.OrdinalIgnoreCase) || word.EndsWith("n\u2019t", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var lookup = _negationCues.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.Contains(word);
    }
}
