using System.Text;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Conversation;

/// <summary>How a question was read: its intent, plus what was found on the way.</summary>
public sealed record QuestionReading(
    QuestionIntent Intent,
    string Normalised,
    string? BuyerName,
    KnowledgeTopic? Industry,
    ClassifiedBuyer? Classification);

/// <summary>
/// Reads a question. The order of the checks is the mechanism; every word and pattern comes
/// from the intent model, and descriptions are recognised by the same signal extractor that
/// classifies buyers, so "they pay a retainer" is understood the same way in both places.
/// </summary>
public static class IntentDetector
{
    public static QuestionReading Read(AdvisorSnapshot snapshot, string question)
    {
        var model = snapshot.Intents;
        var text = Normalise(question, model.Vocabulary);
        var industry = BuyerClassifier.FindIndustryInText(snapshot.Knowledge, text);

        if (model.Matches("help", text))
        {
            return new QuestionReading(QuestionIntent.Help, text, null, null, null);
        }

        var classified = BuyerClassifier.ClassifyText(snapshot, question);
        var evidence = classified.Result.ClientWeight + classified.Result.CustomerWeight;
        var asksToClassify = model.Matches("classify_cue", text);
        var name = FindBuyerName(model, snapshot.Knowledge, question);
        var asksWhatToDo = LooksLikeStrategy(model, text) && (text.Contains('?', StringComparison.Ordinal) || text.StartsWith("how ", StringComparison.Ordinal));

        // An explicit ask about one buyer, with anything at all said about them: "we sell them ink once a year, client or customer?"
        if (asksToClassify && evidence > 0)
        {
            return new QuestionReading(QuestionIntent.Classify, text, null, industry, classified);
        }

        if (name is not null)
        {
            return new QuestionReading(QuestionIntent.BuyerLookup, text, name, industry, null);
        }

        // A plain description with plenty of evidence, unless it asks what to do about such buyers.
        if (evidence >= 2 * model.ClassifyMinEvidence && !asksWhatToDo)
        {
            return new QuestionReading(QuestionIntent.Classify, text, null, industry, classified);
        }

        if (model.Matches("compare", text) && !LooksLikeStrategy(model, text))
        {
            return new QuestionReading(QuestionIntent.Compare, text, null, industry, null);
        }

        if (industry is not null && model.Matches("industry", text) && !LooksLikeStrategy(model, text))
        {
            return new QuestionReading(QuestionIntent.Industry, text, null, industry, null);
        }

        if (LooksLikeStrategy(model, text))
        {
            return new QuestionReading(QuestionIntent.Strategy, text, null, industry, null);
        }

        if (model.Matches("compare", text))
        {
            return new QuestionReading(QuestionIntent.Compare, text, null, industry, null);
        }

        if (model.Matches("define", text))
        {
            return new QuestionReading(QuestionIntent.Define, text, null, industry, null);
        }

        // "Is a hair salon a client business?": an industry question, even about an industry we have no notes on.
        if (model.Matches("industry", text) || (industry is not null && MentionsKind(model, text)))
        {
            return new QuestionReading(QuestionIntent.Industry, text, null, industry, null);
        }

        // An explicit ask with nothing recognised yet ("is a homeowner who ... a client?"): classify, and the open questions follow.
        if (asksToClassify || (evidence >= model.ClassifyMinEvidence && asksWhatToDo is false && text.Contains('?', StringComparison.Ordinal)))
        {
            return new QuestionReading(QuestionIntent.Classify, text, null, industry, classified);
        }

        return new QuestionReading(QuestionIntent.Unknown, text, null, industry, null);
    }

    private static bool LooksLikeStrategy(IntentModel model, string text) => model.Matches("strategy", text);

    private static bool MentionsKind(IntentModel model, string text) =>
        model.KindWords.Where(k => k.Key != Kind.Hybrid).SelectMany(k => k.Value).Any(w => TextMatching.ContainsWord(text, w));

    /// <summary>
    /// The buyer a question names ("is Acme Corp a client?" → "Acme Corp"), or null when the
    /// question is about a described or generic buyer ("is this buyer a client?").
    /// </summary>
    public static string? FindBuyerName(IntentModel model, KnowledgeBase knowledge, string question)
    {
        var trimmed = question.Trim();
        foreach (var pattern in model.LookupPatterns)
        {
            var match = pattern.Match(trimmed);
            if (!match.Success)
            {
                continue;
            }

            var name = match.Groups["name"].Value.Trim().Trim('"', '\'', '“', '”', '?', '.', '!', ',');
            if (IsPlausibleName(model, knowledge, name))
            {
                return name;
            }
        }

        return null;
    }

    private static bool IsPlausibleName(IntentModel model, KnowledgeBase knowledge, string name)
    {
        if (name.Length is 0 or > 80)
        {
            return false;
        }

        if (!name.Any(char.IsLetter))
        {
            return false;
        }

        var original = name.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries);
        var words = original.Select(w => w.ToLowerInvariant()).ToArray();
        if (words.Length > 5 || model.NotNames.Contains(words[0]) || model.NotNames.Contains(name.ToLowerInvariant()))
        {
            return false;
        }

        // In a name of several words, a capitalised word is part of a proper name ("Stark Industries"),
        // so only lower-case stop words count there.
        if (original.Any(w => (original.Length == 1 || !char.IsUpper(w[0])) && model.StopWords.Contains(w.ToLowerInvariant())))
        {
            return false;
        }

        return knowledge.FindIndustry(name) is null || char.IsUpper(name[0]);
    }

    /// <summary>Lower-cases, collapses spaces and corrects misspelt vocabulary words ("clinet" → "client").</summary>
    public static string Normalise(string question, IReadOnlyList<string> vocabulary)
    {
        var lower = question.Trim().ToLowerInvariant();
        var output = new StringBuilder(lower.Length);
        var i = 0;
        while (i < lower.Length)
        {
            if (!char.IsLetter(lower[i]))
            {
                if (!char.IsWhiteSpace(lower[i]) || (output.Length > 0 && output[^1] != ' '))
                {
                    output.Append(char.IsWhiteSpace(lower[i]) ? ' ' : lower[i]);
                }

                i++;
                continue;
            }

            var start = i;
            while (i < lower.Length && char.IsLetter(lower[i]))
            {
                i++;
            }

            var word = lower.AsSpan(start, i - start);
            output.Append(Correct(word, vocabulary) ?? word);
        }

        return output.ToString();
    }

    /// <summary>
    /// The vocabulary word a misspelt word stands for, or null to keep the word. Works on the question's own
    /// characters: every Ask reads every word of its question here, and the copy of each word and a distance matrix
    /// per candidate were most of what intent detection allocated.
    /// </summary>
    private static string? Correct(ReadOnlySpan<char> word, IReadOnlyList<string> vocabulary)
    {
        if (word.Length < 5)
        {
            return null;
        }

        foreach (var candidate in vocabulary)
        {
            if (word.SequenceEqual(candidate))
            {
                return null;
            }
        }

        var allowed = word.Length >= 8 ? 2 : 1;
        foreach (var candidate in vocabulary)
        {
            if (Math.Abs(candidate.Length - word.Length) <= allowed && Distance(word, candidate) <= allowed)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    public static int Distance(string a, string b) => Distance(a.AsSpan(), b.AsSpan());

    /// <summary>
    /// The same distance, keeping only the three rows of the matrix the recurrence reads (this row, the one above and
    /// the one above that, for swaps), on the stack for words of ordinary length.
    /// </summary>
    public static int Distance(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var width = b.Length + 1;
        var rows = width <= 128 ? stackalloc int[3 * width] : new int[3 * width];
        var twoUp = rows[..width];
        var up = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j < width; j++)
        {
            up[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(up[j] + 1, current[j - 1] + 1), up[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    current[j] = Math.Min(current[j], twoUp[j - 2] + 1);
                }
            }

            // Rotate: this row becomes the one above, the one above moves up, and the oldest is reused.
            var oldest = twoUp;
            twoUp = up;
            up = current;
            current = oldest;
        }

        return up[b.Length];
    }
}
