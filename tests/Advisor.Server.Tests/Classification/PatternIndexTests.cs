using System.Text;
using System.Text.RegularExpressions;
using Advisor.Server.Classification;
using CsCheck;
using YamlDotNet.RepresentationModel;

namespace Advisor.Server.Tests.Classification;

/// <summary>
/// The pattern index must find exactly what one big alternation of every pattern, tried at every
/// word start, finds: same places, same lengths, same winning pattern. Checked against the shipped
/// rules on generated text made of the rules' own words, punctuation and awkward characters.
/// </summary>
public sealed class PatternIndexTests
{
    private static readonly List<(int Owner, string Pattern)> Patterns = ShippedPatterns();

    private static readonly PatternIndex Index = new(Patterns);

    private static readonly Regex Reference = BuildReference(Patterns, out ReferenceGroups);

    private static readonly (int Group, int Owner)[] ReferenceGroups;

    private static readonly string[] Words = Patterns
        .SelectMany(p => Regex.Matches(p.Pattern, "[A-Za-z']{2,}").Select(m => m.Value))
        .Concat(["the", "they", "we", "them", "2019", "2031", "12", "K", "\u212Aeep", "\u017Figned", "caf\u00e9", "\u05e9\u05dc\u05d5\u05dd", "\U0001F600", "x\u0301", "\u00a35", "$12", "\u20ac3,50", "14", "24"])
        .Distinct()
        .ToArray();

    private static readonly string[] Separators = [" ", " ", " ", ", ", ". ", "; ", "-", "'", "\n", " \u200f", "\t", "  "];

    [Fact]
    public void Finds_what_one_big_alternation_finds()
    {
        var word = Gen.Int[0, Words.Length - 1].Select(i => Words[i]).Select(Gen.Int[0, 3], (w, c) => c switch { 0 => w.ToUpperInvariant(), 1 => char.ToUpperInvariant(w[0]) + w[1..], _ => w });
        var text = Gen.Select(word, Gen.Int[0, Separators.Length - 1].Select(i => Separators[i])).Array[1, 40]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

        text.Sample(t => Index.Matches(t).ShouldBe(ReferenceMatches(t, Reference, ReferenceGroups), t), iter: 3000);
    }

    /// <summary>
    /// Plain-ASCII text is scanned 64 characters at a time as bits (word starts, word ends) rather than character by
    /// character: it must try the same word starts, so apostrophes in and around words, digits, words glued together and
    /// words across the 64-character blocks must give what the reference gives.
    /// </summary>
    [Fact]
    public void Finds_in_plain_ASCII_text_what_one_big_alternation_finds()
    {
        string[] words = [.. Words.Where(w => Ascii.IsValid(w)), "don't", "'tis", "o'clock", "won't", "a", "x9", "9x", "''", "it's", "rock'n'roll"];
        string[] separators = [" ", " ", " ", ", ", ". ", "'", "' ", " '", "-", "\n", "\t", "  ", "", "--", "!"];
        var word = Gen.Int[0, words.Length - 1].Select(i => words[i]).Select(Gen.Int[0, 3], (w, c) => c switch { 0 => w.ToUpperInvariant(), 1 => char.ToUpperInvariant(w[0]) + w[1..], _ => w });
        var text = Gen.Select(word, Gen.Int[0, separators.Length - 1].Select(i => separators[i])).Array[1, 60]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

        text.Sample(t => Index.Matches(t).ShouldBe(ReferenceMatches(t, Reference, ReferenceGroups), t), iter: 3000);
    }

    /// <summary>
    /// Before the tree walk, the scan reads what a word's first two to five characters can come to (no candidates, some, or
    /// undecided) from tables built from the tree; a word they rule out is not walked. Texts here are the shipped rules'
    /// literal beginnings cut anywhere and continued by a near miss (another letter, a space, an apostrophe, a digit, a
    /// letter whose case fold is not ASCII's), so they part from the tree at every depth the filters read and beyond; pieces
    /// of one and two characters, glued pieces and pieces that end the text are among them. The filters must not lose a
    /// match the reference finds, nor change which pattern wins.
    /// </summary>
    [Fact]
    public void Finds_at_near_misses_of_the_patterns_beginnings_what_one_big_alternation_finds()
    {
        var beginnings = Patterns
            .SelectMany(p => PatternIndex.SplitTopLevel(p.Pattern))
            .SelectMany(b => PatternIndex.LiteralPrefixes(b) ?? [])
            .Concat(["the", "we", "a", "an", "no", "for", "our", "on", "in"])
            .Distinct()
            .ToArray();
        string[] asciiTails = ["", "", "s", "e", "x", "q", " ", "'", "-", "9", "K", ".", "'s"];
        string[] asciiSeparators = [" ", " ", " ", "", ", ", "'", "-", "\n"];

        // Plain-ASCII texts go through the filters; the others (the typographic apostrophe, the Kelvin sign, the long s, the
        // dotless i, é) through the character-by-character scan, which must agree with them.
        Texts(asciiTails, asciiSeparators).Sample(t => Index.Matches(t).ShouldBe(ReferenceMatches(t, Reference, ReferenceGroups), t), iter: 4000);
        Texts([.. asciiTails, "\u2019", "\u212A", "\u017F", "\u0131", "\u00e9"], [.. asciiSeparators, "\u2019"])
            .Sample(t => Index.Matches(t).ShouldBe(ReferenceMatches(t, Reference, ReferenceGroups), t), iter: 1000);

        Gen<string> Texts(string[] tails, string[] separators)
        {
            var piece = Gen.Select(Gen.Int[0, beginnings.Length - 1], Gen.Int[1, 100], Gen.Int[0, tails.Length - 1], Gen.Int[0, 3], (b, cut, tail, casing) =>
            {
                var beginning = beginnings[b];
                var text = beginning[..Math.Max(1, beginning.Length * cut / 100)] + tails[tail];
                return casing switch { 0 => text.ToUpperInvariant(), 1 => char.ToUpperInvariant(text[0]) + text[1..], _ => text };
            });
            return Gen.Select(piece, Gen.Int[0, separators.Length - 1].Select(i => separators[i])).Array[1, 30]
                .Select(Gen.Bool, (parts, endsWithPiece) =>
                {
                    var joined = string.Concat(parts.Select(p => p.Item1 + p.Item2));
                    return endsWithPiece ? joined[..^parts[^1].Item2.Length] : joined;
                });
        }
    }

    /// <summary>The bits the plain-ASCII scan reads are char.IsLetterOrDigit and TextMatching.IsWordChar of each character, for every length to 64.</summary>
    [Fact]
    public void Classifies_ASCII_characters_as_the_character_tests_do()
    {
        Gen.Char[(char)0, (char)127].Array[0, 64].Sample(chars =>
        {
            var (alnum, word) = PatternIndex.AsciiWordBits(chars);
            for (var i = 0; i < 64; i++)
            {
                ((alnum >> i) & 1).ShouldBe(i < chars.Length && char.IsLetterOrDigit(chars[i]) ? 1UL : 0UL);
                ((word >> i) & 1).ShouldBe(i < chars.Length && TextMatching.IsWordChar(chars[i]) ? 1UL : 0UL);
            }
        }, iter: 3000);
    }

    /// <summary>Leading groups, optional groups and overlapping alternatives: the splitting must not change the winner or the length.</summary>
    [Fact]
    public void Split_leading_groups_find_what_the_whole_patterns_find()
    {
        List<(int Owner, string Pattern)> patterns =
        [
            (0, "(?:a|ab)c"),
            (1, "(?:key )?account (?:manager|lead)"),
            (2, "(?:several|\\d+|two) times(?: a week)?"),
            (3, "(?:(?:very )?long|short) (?:term|stay)"),
            (4, "(?:ab|a)(?:c|cd)?"),
            (5, "(?:x|y)+z|account"),
            (6, "(?:[\\w-]+ )?plan"),
            (7, "meet(?:s|ing|ings)?"),
            (8, "care(?:-| )?plans?|x\\.y"),
        ];
        var index = new PatternIndex(patterns);
        var reference = BuildReference(patterns, out var groups);
        string[] words = ["a", "ab", "abc", "abcd", "c", "key", "account", "manager", "lead", "several", "2", "12", "two", "times", "a", "week",
            "very", "long", "short", "term", "stay", "x", "y", "xyz", "yz", "z", "plan", "care-plan", "K\u212Aey",
            "meet", "meets", "meeting", "meetings", "meetingsx", "MEETING", "care", "careplans", "plans", "x.y", "xay"];
        var text = Gen.Select(Gen.Int[0, words.Length - 1].Select(i => words[i]), Gen.Int[0, 2].Select(i => new[] { " ", ", ", "-" }[i])).Array[1, 12]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

        text.Sample(t => index.Matches(t).ShouldBe(ReferenceMatches(t, reference, groups), t), iter: 3000);
    }

    /// <summary>
    /// The regex's <c>\d</c> matches every decimal digit, not only 0-9: a word that starts with one beyond ASCII
    /// ("٣ times", Arabic-Indic three; "१२", Devanagari twelve) must still be tried against the branches keyed by digits.
    /// </summary>
    [Fact]
    public void Branches_keyed_by_digits_match_digits_beyond_ASCII()
    {
        List<(int Owner, string Pattern)> patterns =
        [
            (0, "(?:several|\\d+|two) times(?: a week)?"),
            (1, "\\d{1,2} years?"),
            (2, "for (?:the )?(?:last )?(?:\\d{1,2}|two) years"),
            (3, "times"),
        ];
        var index = new PatternIndex(patterns);
        var reference = BuildReference(patterns, out var groups);
        string[] words = ["\u0663", "\u0967\u0968", "3", "12", "\u0663x", "times", "a", "week", "year", "years", "for", "the", "last", "two", "\u00e9t\u00e9"];
        var text = Gen.Select(Gen.Int[0, words.Length - 1].Select(i => words[i]), Gen.Int[0, 2].Select(i => new[] { " ", ", ", "-" }[i])).Array[1, 10]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

        index.Matches("\u0663 times a week").ShouldBe(ReferenceMatches("\u0663 times a week", reference, groups));
        index.Matches("\u0663 times a week").ShouldNotBeEmpty();
        text.Sample(t => index.Matches(t).ShouldBe(ReferenceMatches(t, reference, groups), t), iter: 3000);
    }

    /// <summary>
    /// A draft rule set can hold anything (the fuzzer pasted 80,000 characters into one pattern, which made a
    /// ValidateRuleSet call outlive its deadline): huge and deeply nested branches build and still match.
    /// </summary>
    [Fact]
    public void Huge_and_deeply_nested_patterns_build_and_match()
    {
        var huge = string.Concat(Enumerable.Repeat("abc ", 20_000)).TrimEnd();
        var nested = new string('(', 300) + "deep" + new string(')', 300) + " (?:end|stop)s?";
        var index = new PatternIndex([(0, huge), (1, nested)]);

        index.Matches("x " + huge + " y").ShouldBe([(0, 2, huge.Length)]);
        index.Matches("so deep ends").ShouldBe([(1, 3, 9)]);
    }

    [Theory]
    [InlineData("meet(?:s|ing|ings)?", new[] { "meets", "meeting", "meetings", "meet" })]
    [InlineData("renewals?", new[] { "renewals", "renewal" })]
    [InlineData("(?:a|b)(?:c|d)?", new[] { "ac", "ad", "a", "bc", "bd", "b" })]
    [InlineData("pay\\-as", new[] { "pay-as" })]
    [InlineData("pay[- ]as", new[] { "pay-as", "pay as" })]
    [InlineData("[4-6]x?", new[] { "4x", "4", "5x", "5", "6x", "6" })]
    [InlineData("a[]b]", new[] { "a]", "ab" })]
    [InlineData("pay[^ ]as", null)]
    [InlineData("pay[\\w-]as", null)]
    [InlineData("[0-9a-z][a-z]s", null)]
    [InlineData("x[", null)]
    [InlineData("\\d times", null)]
    [InlineData("x+", null)]
    [InlineData("x??", null)]
    [InlineData("(?!x)y", null)]
    public void Reads_the_fixed_phrases_a_branch_can_match(string branch, string[]? expected) =>
        PatternIndex.Phrases(branch, 64).ShouldBe(expected);

    [Theory]
    [InlineData("(?:several|\\d) times", new[] { "several times", "\\d times" })]
    [InlineData("(?:key )?account", new[] { "key account", "account" })]
    [InlineData("(?:(?:very )?long|short) term", new[] { "very long term", "long term", "short term" })]
    [InlineData("(?:x|y)+z", new[] { "(?:x|y)+z" })]
    [InlineData("(?:x|y)??z", new[] { "(?:x|y)??z" })]
    [InlineData("(?=x)x", new[] { "(?=x)x" })]
    [InlineData("plain", new[] { "plain" })]
    public void Splits_a_leading_group_into_its_alternatives(string branch, string[] expected) =>
        PatternIndex.ExpandLeadingGroups(branch, 32).ShouldBe(expected);

    [Theory]
    [InlineData("(?:monthly|annual) (?:care|support) plan", new[] { "monthly care plan", "monthly support plan", "annual care plan", "annual support plan" })]
    [InlineData("renew(?:ed|s|al)?", new[] { "renew" })]
    [InlineData("contracts?", new[] { "contract" })]
    [InlineData("(?:[\\w-]+ )?contract", null)]
    [InlineData("for (?:the )?(?:14|\\d{2}) months", new[] { "for the 14", "for the 0", "for the 1", "for the 2", "for the 3", "for the 4", "for the 5", "for the 6", "for the 7", "for the 8", "for the 9", "for 14", "for 0", "for 1", "for 2", "for 3", "for 4", "for 5", "for 6", "for 7", "for 8", "for 9" })]
    [InlineData("for [£$]\\d+", new[] { "for £0", "for £1", "for £2", "for £3", "for £4", "for £5", "for £6", "for £7", "for £8", "for £9", "for $0", "for $1", "for $2", "for $3", "for $4", "for $5", "for $6", "for $7", "for $8", "for $9" })]
    [InlineData("Caf\u00e9s? (?:x|y)", new[] { "caf" })]
    public void Reads_literal_beginnings(string branch, string[]? expected) =>
        PatternIndex.LiteralPrefixes(branch).ShouldBe(expected);

    [Theory]
    [InlineData("(?:[\\w-]+ )?(?:contract|agreement|retainer) (?:with us )?until (?:19|20)\\d\\d", "until ")]
    [InlineData("(?:a|b)c?", null)]
    public void Reads_required_text(string branch, string? expected) =>
        PatternIndex.RequiredLiteral(branch).ShouldBe(expected);

    /// <summary>The definition the index must agree with: at each word start, the first pattern (in order) that matches.</summary>
    private static List<(int Owner, int Start, int Length)> ReferenceMatches(string text, Regex reference, (int Group, int Owner)[] referenceGroups)
    {
        var found = new List<(int, int, int)>();
        var position = 0;
        while (position < text.Length)
        {
            if (!char.IsLetterOrDigit(text[position]) || (position > 0 && char.IsLetterOrDigit(text[position - 1])))
            {
                position++;
                continue;
            }

            var match = reference.Match(text, position);
            if (match.Success && match.Length > 0)
            {
                var owner = referenceGroups.First(g => match.Groups[g.Group].Success).Owner;
                found.Add((owner, position, match.Length));
                position += match.Length;
                continue;
            }

            position++;
            while (position < text.Length && TextMatching.IsWordChar(text[position]))
            {
                position++;
            }
        }

        return found;
    }

    private static Regex BuildReference(List<(int Owner, string Pattern)> patterns, out (int Group, int Owner)[] groups)
    {
        var pattern = new StringBuilder(@"\G(?:");
        var owners = new List<int>();
        foreach (var (owner, p) in patterns)
        {
            foreach (var branch in PatternIndex.SplitTopLevel(p))
            {
                pattern.Append(owners.Count == 0 ? "" : "|").Append("(?<b").Append(owners.Count).Append(">(?:").Append(branch).Append(@")(?![\p{L}\p{N}]))");
                owners.Add(owner);
            }
        }

        var regex = new Regex(pattern.Append(')').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
        groups = owners.Select((o, i) => (regex.GroupNumberFromName("b" + i), o)).ToArray();
        return regex;
    }

    private static List<(int Owner, string Pattern)> ShippedPatterns()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "rules.yaml"))));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var result = new List<(int, string)>();
        var signals = (YamlSequenceNode)root.Children[new YamlScalarNode("signals")];
        for (var i = 0; i < signals.Children.Count; i++)
        {
            var signal = (YamlMappingNode)signals.Children[i];
            if (signal.Children.TryGetValue(new YamlScalarNode("patterns"), out var list))
            {
                result.AddRange(((YamlSequenceNode)list).Children.Select(p => (i, ((YamlScalarNode)p).Value!)));
            }
        }

        return result;
    }
}
