using System.Text;
using System.Text.RegularExpressions;

namespace Advisor.Server.Classification;

/// <summary>
/// Matches many patterns at word starts without trying every pattern everywhere. Each pattern is
/// split into its top-level alternatives, and each alternative is filed under the characters it can
/// start with; at a word start only the alternatives filed under that character run, as one anchored
/// regex per character. The result is the same as one big alternation tried at every word start
/// (leftmost match first, then the earliest-listed pattern), at a fraction of the cost.
/// </summary>
internal sealed class PatternIndex
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.Compiled;

    /// <summary>Generous: one anchored match at one word start; it exists to stop a pathological pattern, not to time normal work.</summary>
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<char, Bucket> _buckets = [];

    /// <param name="patterns">(owner index, pattern) in priority order; the owner is reported with each match.</param>
    public PatternIndex(IReadOnlyList<(int Owner, string Pattern)> patterns)
    {
        var branches = new List<(int Owner, string Branch, HashSet<char>? First)>();
        foreach (var (owner, pattern) in patterns)
        {
            foreach (var branch in SplitTopLevel(pattern))
            {
                branches.Add((owner, branch, FirstChars(branch)));
            }
        }

        var keys = branches.Where(b => b.First is not null).SelectMany(b => b.First!).ToHashSet();
        foreach (var key in keys)
        {
            var members = branches.Where(b => b.First is null || b.First.Contains(key)).ToList();
            _buckets[key] = Bucket.Create(members.Select(m => (m.Owner, m.Branch)).ToList());
        }

        Fallback = branches.Any(b => b.First is null)
            ? Bucket.Create(branches.Where(b => b.First is null).Select(m => (m.Owner, m.Branch)).ToList())
            : null;
    }

    private Bucket? Fallback { get; }

    /// <summary>The matches in text order: at each word start the earliest-listed pattern that matches wins.</summary>
    public IEnumerable<(int Owner, int Start, int Length)> Matches(string text)
    {
        var position = 0;
        while (position < text.Length)
        {
            if (!IsWordStart(text, position))
            {
                position++;
                continue;
            }

            var key = char.ToLowerInvariant(text[position]);
            var bucket = _buckets.GetValueOrDefault(key) ?? Fallback;
            if (bucket is not null && bucket.TryMatch(text, position, out var owner, out var length) && length > 0)
            {
                yield return (owner, position, length);
                position += length;
                continue;
            }

            // Skip the rest of this word: matches start only at word starts.
            position++;
            while (position < text.Length && TextMatching.IsWordChar(text[position]))
            {
                position++;
            }
        }
    }

    private static bool IsWordStart(string text, int i) =>
        char.IsLetterOrDigit(text[i]) && (i == 0 || !char.IsLetterOrDigit(text[i - 1]));

    /// <summary>Splits a pattern at its top-level <c>|</c>, respecting groups, classes and escapes.</summary>
    internal static List<string> SplitTopLevel(string pattern)
    {
        var parts = new List<string>();
        var depth = 0;
        var inClass = false;
        var start = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                i++;
            }
            else if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == '|' && depth == 0)
            {
                parts.Add(pattern[start..i]);
                start = i + 1;
            }
        }

        parts.Add(pattern[start..]);
        return parts;
    }

    /// <summary>
    /// The lower-case characters a pattern can start with, or null when it could start with
    /// anything this simple reading cannot tell (such patterns are tried at every word start).
    /// </summary>
    internal static HashSet<char>? FirstChars(string pattern)
    {
        var result = new HashSet<char>();
        return Collect(pattern, 0, result) ? result : null;
    }

    /// <summary>Adds the possible first characters from <paramref name="at"/>; false when unknown.</summary>
    private static bool Collect(string p, int at, HashSet<char> into)
    {
        while (at < p.Length)
        {
            var c = p[at];
            int next;
            var added = new HashSet<char>();
            if (c == '(')
            {
                var close = MatchingParen(p, at);
                if (close < 0)
                {
                    return false;
                }

                var inner = p[(at + 1)..close];
                if (inner.StartsWith("?:", StringComparison.Ordinal))
                {
                    inner = inner[2..];
                }
                else if (inner.StartsWith("?<", StringComparison.Ordinal) && inner.Length > 2 && inner[2] != '=' && inner[2] != '!')
                {
                    inner = inner[(inner.IndexOf('>', StringComparison.Ordinal) + 1)..];
                }
                else if (inner.StartsWith('?'))
                {
                    return false; // lookarounds and other constructs: not read here
                }

                foreach (var branch in SplitTopLevel(inner))
                {
                    if (branch.Length == 0 || !Collect(branch, 0, added))
                    {
                        return false;
                    }
                }

                next = close + 1;
            }
            else if (c == '[')
            {
                var close = p.IndexOf(']', at + 1);
                if (close < 0 || p[at + 1] == '^' || p.AsSpan(at + 1, close - at - 1).Contains('\\'))
                {
                    return false;
                }

                var set = p[(at + 1)..close];
                for (var i = 0; i < set.Length; i++)
                {
                    if (i + 2 < set.Length && set[i + 1] == '-')
                    {
                        for (var x = set[i]; x <= set[i + 2]; x++)
                        {
                            added.Add(char.ToLowerInvariant(x));
                        }

                        i += 2;
                    }
                    else
                    {
                        added.Add(char.ToLowerInvariant(set[i]));
                    }
                }

                next = close + 1;
            }
            else if (c == '\\')
            {
                if (at + 1 >= p.Length)
                {
                    return false;
                }

                var e = p[at + 1];
                if (e == 'd')
                {
                    for (var x = '0'; x <= '9'; x++)
                    {
                        added.Add(x);
                    }
                }
                else if (!char.IsLetterOrDigit(e))
                {
                    added.Add(e);
                }
                else
                {
                    return false;
                }

                next = at + 2;
            }
            else if (char.IsLetterOrDigit(c) || c is '\'' or '-' or ' ' or '&' or '£' or '$')
            {
                added.Add(char.ToLowerInvariant(c));
                next = at + 1;
            }
            else
            {
                return false;
            }

            into.UnionWith(added);
            var optional = next < p.Length && (p[next] == '?' || p[next] == '*' || (p[next] == '{' && p.AsSpan(next).StartsWith("{0")));
            if (!optional)
            {
                return true;
            }

            // Skip the quantifier, then the following element can also come first.
            next++;
            if (p[next - 1] == '{')
            {
                next = p.IndexOf('}', next) + 1;
            }

            if (next < p.Length && p[next] == '?')
            {
                next++;
            }

            at = next;
        }

        return false; // the whole pattern is optional: it could match the empty string
    }

    private static int MatchingParen(string p, int open)
    {
        var depth = 0;
        var inClass = false;
        for (var i = open; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\')
            {
                i++;
            }
            else if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The alternatives that can start with one character, as one anchored regex.</summary>
    private sealed class Bucket
    {
        private readonly Regex _regex;
        private readonly int[] _groupNumbers;
        private readonly int[] _owners;

        private Bucket(Regex regex, int[] groupNumbers, int[] owners)
        {
            _regex = regex;
            _groupNumbers = groupNumbers;
            _owners = owners;
        }

        public static Bucket Create(List<(int Owner, string Branch)> members)
        {
            var pattern = new StringBuilder(@"\G(?:");
            for (var i = 0; i < members.Count; i++)
            {
                if (i > 0)
                {
                    pattern.Append('|');
                }

                pattern.Append("(?<b").Append(i).Append(">(?:").Append(members[i].Branch).Append(@")(?![\p{L}\p{N}]))");
            }

            pattern.Append(')');
            var regex = new Regex(pattern.ToString(), Options, MatchTimeout);
            var numbers = Enumerable.Range(0, members.Count).Select(i => regex.GroupNumberFromName("b" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
            WarmUp(regex);
            return new Bucket(regex, numbers, members.Select(m => m.Owner).ToArray());
        }

        /// <summary>
        /// Runs the compiled regex once so its code is generated and jitted here, while the rule set is
        /// built (at start or publish), not inside the first request's match timeout.
        /// </summary>
        private static void WarmUp(Regex regex)
        {
            try
            {
                _ = regex.Match("warm up the pattern index", 0);
            }
            catch (RegexMatchTimeoutException)
            {
                // A machine busy enough to time out the warm-up has still jitted the code.
            }
        }

        public bool TryMatch(string text, int position, out int owner, out int length)
        {
            var match = _regex.Match(text, position);
            if (match.Success)
            {
                for (var i = 0; i < _groupNumbers.Length; i++)
                {
                    if (match.Groups[_groupNumbers[i]].Success)
                    {
                        owner = _owners[i];
                        length = match.Length;
                        return true;
                    }
                }
            }

            owner = -1;
            length = 0;
            return false;
        }
    }
}
