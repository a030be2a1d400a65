using Microsoft.AspNetCore.WebUtilities;

namespace Advisor.Bot.Slack;

/// <summary>
/// The fields of a slash command's form body that the bot uses. Read as <c>QueryHelpers.ParseQuery</c> reads them
/// (names ignore case, a field sent twice has its non-empty values joined by commas, a missing one is empty) but without a
/// dictionary and a decoded string for each of the dozen other fields Slack sends (team, channel, trigger and so on):
/// those were a slash command's largest allocation before the answer.
/// </summary>
public readonly record struct SlashCommandForm(string Text, string UserId, string ResponseUrl)
{
    public static SlashCommandForm Parse(string body)
    {
        string? text = null, userId = null, responseUrl = null;
        foreach (var pair in new QueryStringEnumerable(body))
        {
            // Decoding a name that has no escapes returns a slice of the body, not a copy.
            var name = pair.DecodeName().Span;
            if (name.Equals("text", StringComparison.OrdinalIgnoreCase))
            {
                text = Append(text, pair.DecodeValue());
            }
            else if (name.Equals("user_id", StringComparison.OrdinalIgnoreCase))
            {
                userId = Append(userId, pair.DecodeValue());
            }
            else if (name.Equals("response_url", StringComparison.OrdinalIgnoreCase))
            {
                responseUrl = Append(responseUrl, pair.DecodeValue());
            }
        }

        return new SlashCommandForm(text ?? "", userId ?? "", responseUrl ?? "");
    }

    // As StringValues joins a repeated field: empty values leave no trace.
    private static string Append(string? previous, ReadOnlyMemory<char> value) =>
        string.IsNullOrEmpty(previous) ? value.ToString()
        : value.IsEmpty ? previous
        : string.Concat(previous, ",", value.Span);
}
