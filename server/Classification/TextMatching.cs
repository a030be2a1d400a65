namespace Advisor.Server.Classification;

/// <summary>Word-boundary matching on lower-case text, shared by the extractor and the knowledge lookups.</summary>
public static class TextMatching
{
    public static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '\'';

    /// <summary>Whether <paramref name="phrase"/> occurs in <paramref name="text"/> as whole words.</summary>
    public static bool ContainsWord(string text, string phrase) => IndexOfWord(text, phrase, 0) >= 0;

    public static int IndexOfWord(string text, string phrase, int start)
    {
        while (start <= text.Length - phrase.Length)
        {
            var at = text.IndexOf(phrase, start, StringComparison.Ordinal);
            if (at < 0)
            {
                return -1;
            }

            var end = at + phrase.Length;
            if ((at == 0 || !IsWordChar(text[at - 1])) && (end == text.Length || !IsWordChar(text[end])))
            {
                return at;
            }

            start = at + 1;
        }

        return -1;
    }
}
