namespace Advisor.Bot.Conversation;

/// <summary>Helpers for fitting text into platform limits: split at line or word breaks, trim with an ellipsis.</summary>
public static class TextChunks
{
    public const string Ellipsis = "\u2026";

    public static string Trim(string text, int max) =>
        text.Length <= max ? text : text[..Math.Max(0, max - 1)].TrimEnd() + Ellipsis;

    /// <summary>Splits text into pieces of at most <paramref name="max"/> characters, preferring line, then word breaks.</summary>
    public static IReadOnlyList<string> Split(string text, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 2);
        var pieces = new List<string>();
        var rest = text.AsSpan();
        while (rest.Length > max)
        {
            var window = rest[..max];
            var cut = window.LastIndexOf('\n');
            if (cut < max / 2)
            {
                cut = window.LastIndexOf(' ');
            }

            if (cut < max / 2)
            {
                cut = max;
                // Never cut a surrogate pair in half.
                if (char.IsHighSurrogate(rest[cut - 1]))
                {
                    cut--;
                }
            }

            pieces.Add(rest[..cut].TrimEnd().ToString());
            rest = rest[cut..].TrimStart();
        }

        // Text that fits is the usual case: keep the caller's string rather than a copy of it.
        if (pieces.Count == 0)
        {
            pieces.Add(text);
        }
        else if (rest.Length > 0)
        {
            pieces.Add(rest.ToString());
        }

        return pieces;
    }
}
