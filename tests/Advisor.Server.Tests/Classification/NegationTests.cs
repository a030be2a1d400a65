using Advisor.Server.Classification;
using CsCheck;

namespace Advisor.Server.Tests.Classification;

/// <summary>
/// The extractor's negation look-back finds plain-ASCII words in a table of cue and break words by a key built as it reads
/// them (<see cref="ShortWordTable"/>), and passes over other words that cannot be a cue or a break word without looking
/// them up (a filter by first character and length). It must decide exactly as looking every word up does: checked against a
/// plain reading of the rule on generated text full of cues, break words, their case variants and look-alikes (the
/// dotless ı and the long ſ, which case-insensitive comparison folds to ASCII letters), with the shipped cues and with
/// a cue list the filter cannot hold (a cue that is not plain ASCII, which turns the filter off).
/// </summary>
public sealed class NegationTests
{
    private static readonly string[] ShippedCues = ["no", "not", "never", "without", "none", "nor", "neither", "zero", "nobody", "nothing", "hardly", "barely", "cannot", "declined", "refused", "rejected", "ignored", "ignores"];

    private static readonly string[] Breaks = [".", ",", ";", ":", "!", "?", " but ", " however ", " although ", " though ", " and ", " while ", " whereas ", "\n"];

    private static readonly string[] Words =
    [
        "contract", "contracts", "call", "calls", "we", "they", "the", "a", "signed", "weekly", "on", "nobody's", "don't", "won\u2019t", "can't", "isnt", "tn't",
        "no", "No", "NO", "not", "Never", "NEVER", "without", "nothing", "NOTHıNG", "ſigned", "nſ", "but", "BUT", "However", "and", "And", "while", "whereas", "though",
        "nié", "NIÉ", "caf\u00e9", "12", "x", "noo", "nor", "zero", "o", "butt", "an", "nevertheless", "NEVERTHELESS", "althouGH", "although", "declined",
        "declines", "ignores", "Zero", "2016", "n't", "N'T", "it's", "NOBODY", "nobody", "neither", "need", "all", "retainer",
    ];

    private static readonly string[] Separators = [" ", " ", " ", ", ", ". ", "; ", "\n", "-", "'", "\u2019", "  ", "!"];

    private static readonly SignalDefinition[] Signals =
    [
        new("contract", "a contract", "no_contract", null, null, ["contracts?"]),
        new("no_contract", "no contract", null, null, null, []),
        new("calls", "calls", null, null, null, ["calls?"]),
    ];

    /// <param name="extraCue">
    /// A cue added to the shipped ones: none (the short-word table holds them all), one that is not plain ASCII or one
    /// longer than a table key (either turns the table and the filter's shortcut off), or one the words cannot form.
    /// </param>
    [Theory]
    [InlineData("")]
    [InlineData("nié")]
    [InlineData("nevertheless")]
    [InlineData("no way")]
    public void Negates_exactly_as_looking_every_word_up_does(string extraCue)
    {
        string[] cues = extraCue.Length > 0 ? [.. ShippedCues, extraCue] : ShippedCues;
        var extractor = new SignalExtractor(Signals, cues, Breaks, 5);
        var text = Gen.Select(Gen.Int[0, Words.Length - 1], Gen.Int[0, Separators.Length - 1]).Array[1, 30]
            .Select(parts => string.Concat(parts.Select(p => Words[p.Item1] + Separators[p.Item2])));

        text.Sample(t => extractor.Extract(t).Select(h => (h.Signal, h.Span!.Value.Start)).ShouldBe(Reference(t, cues), t), iter: 3000);
    }

    /// <summary>
    /// Plain-ASCII text is read back eight characters at a time (<see cref="AsciiWords"/>): the same decisions on text made
    /// only of ASCII words and separators, long enough that most look-backs start past the first eight characters, with words
    /// of exactly eight characters ("although", "retainer") and longer ones ("nevertheless") and runs of apostrophes.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("nevertheless")]
    [InlineData("no way")]
    public void Negates_plain_ASCII_text_exactly_as_looking_every_word_up_does(string extraCue)
    {
        AsciiWords.IsSupported.ShouldBeTrue("the CI and development machines accelerate Vector128; without it this test would check the other reading twice");
        string[] cues = extraCue.Length > 0 ? [.. ShippedCues, extraCue] : ShippedCues;
        var extractor = new SignalExtractor(Signals, cues, Breaks, 5);
        string[] words = [.. Words.Where(w => System.Text.Ascii.IsValid(w)), "contracting", "''", "don't've", "12345678", "noo'", "hardly1", "Refused"];
        string[] separators = [.. Separators.Where(s => System.Text.Ascii.IsValid(s)), "(", " - ", "\"\""];
        var text = Gen.Select(Gen.Int[0, words.Length - 1], Gen.Int[0, separators.Length - 1]).Array[1, 40]
            .Select(parts => string.Concat(parts.Select(p => words[p.Item1] + separators[p.Item2])));

        text.Sample(t => extractor.Extract(t).Select(h => (h.Signal, h.Span!.Value.Start)).ShouldBe(Reference(t, cues), t), iter: 3000);
    }

    /// <summary>
    /// A word's key packs each character's low seven bits (<see cref="AsciiWords.PackSevenBits"/>), shifts and masks in place
    /// of BMI2's PEXT (microcoded on older AMD processors): the same bits as gathering them one byte at a time, and as PEXT
    /// with the 0x7F7F… mask where the processor has it.
    /// </summary>
    [Fact]
    public void Seven_bits_per_byte_are_packed_in_order_as_one_byte_at_a_time_and_as_PEXT()
    {
        Gen.ULong.Sample(bytes =>
        {
            ulong expected = 0;
            for (var i = 7; i >= 0; i--)
            {
                expected = (expected << 7) | ((bytes >> (8 * i)) & 0x7F);
            }

            AsciiWords.PackSevenBits(bytes).ShouldBe(expected);
            if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
            {
                AsciiWords.PackSevenBits(bytes).ShouldBe(System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(bytes, 0x7F7F_7F7F_7F7F_7F7FUL));
            }
        }, iter: 100_000);
    }

    [Fact]
    public void Case_variants_of_cues_and_break_words_count()
    {
        var extractor = new SignalExtractor(Signals, ShippedCues, Breaks, 5);

        extractor.Extract("NO signed contract").Single().Signal.ShouldBe("no_contract");
        extractor.Extract("we NEVER had a contract").Single().Signal.ShouldBe("no_contract");
        extractor.Extract("no calls BUT a contract").Single().Signal.ShouldBe("contract");
        extractor.Extract("they didn\u2019t sign a contract").Single().Signal.ShouldBe("no_contract");
        extractor.Extract("NOTHING like a contract").Single().Signal.ShouldBe("no_contract");
        extractor.Extract("NOTHıNG like a contract").Single().Signal.ShouldBe("contract");
    }

    /// <summary>
    /// The rule as written: look back up to five words in the clause; a cue or a word ending in n't negates; a negated
    /// mention of a signal without a negated counterpart is dropped.
    /// </summary>
    private static List<(string Signal, int Start)> Reference(string text, string[] cues)
    {
        var cueSet = new HashSet<string>(cues, StringComparer.OrdinalIgnoreCase);
        var breakWords = new HashSet<string>(Breaks.Select(b => b.Trim()).Where(b => b.Length > 1), StringComparer.OrdinalIgnoreCase);
        var breakChars = Breaks.Select(b => b.Trim()).Where(b => b.Length == 1).Select(b => b[0]).Append('\n').ToHashSet();
        var found = new List<(string, int)>();
        var pattern = new System.Text.RegularExpressions.Regex(
            @"\G(?:(?<c>contracts?)|calls?)(?![\p{L}\p{N}])",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        // Matches start at word starts; a word that does not start a match is skipped whole (with its apostrophes).
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsLetterOrDigit(text[i]) || (i > 0 && char.IsLetterOrDigit(text[i - 1])))
            {
                i++;
                continue;
            }

            var m = pattern.Match(text, i);
            if (m.Success)
            {
                var negated = Negated(text, i);
                if (m.Groups["c"].Success)
                {
                    found.Add((negated ? "no_contract" : "contract", i));
                }
                else if (!negated)
                {
                    // "calls" has no negated counterpart: a negated mention is dropped.
                    found.Add(("calls", i));
                }

                i += m.Length;
                continue;
            }

            i++;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '\''))
            {
                i++;
            }
        }

        return found;

        bool Word(char c) => char.IsLetterOrDigit(c) || c is '\'' or '\u2019';

        bool Negated(string s, int index)
        {
            var end = index;
            for (var words = 0; end > 0 && words < 5; words++)
            {
                while (end > 0 && !Word(s[end - 1]))
                {
                    if (breakChars.Contains(s[end - 1]))
                    {
                        return false;
                    }

                    end--;
                }

                var start = end;
                while (start > 0 && Word(s[start - 1]))
                {
                    start--;
                }

                if (start == end)
                {
                    return false;
                }

                var word = s[start..end];
                if (word.EndsWith("n't", StringComparison.OrdinalIgnoreCase) || word.EndsWith("n\u2019t", StringComparison.OrdinalIgnoreCase) || cueSet.Contains(word))
                {
                    return true;
                }

                if (breakWords.Contains(word))
                {
                    return false;
                }

                end = start;
            }

            return false;
        }
    }
}
