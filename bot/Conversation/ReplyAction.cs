namespace Advisor.Bot.Conversation;

public enum ReplyActionKind
{
    ShowEvidence,
    SuggestStrategies,
    ReportWrong,
    FollowUp,
    More,
}

/// <summary>
/// A button's meaning, encoded compactly ("ev:k3j9x2a1b0c4" or "mo:k3j9x2a1b0c4:2") so it fits Discord's
/// 100-character custom_id and Slack's action_id/value with room to spare. The state lives in <see cref="ReplyMemory"/>.
/// </summary>
public sealed record ReplyAction(ReplyActionKind Kind, string ReplyId, int Argument = 0)
{
    public string Encode() => Kind switch
    {
        ReplyActionKind.ShowEvidence => $"ev:{ReplyId}",
        ReplyActionKind.SuggestStrategies => $"st:{ReplyId}",
        ReplyActionKind.ReportWrong => $"wr:{ReplyId}:{Argument}",
        ReplyActionKind.FollowUp => $"fu:{ReplyId}:{Argument}",
        ReplyActionKind.More => $"mo:{ReplyId}:{Argument}",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    public static bool TryParse(string? encoded, out ReplyAction action)
    {
        action = new ReplyAction(ReplyActionKind.More, "");
        if (string.IsNullOrEmpty(encoded) || encoded.Length > 64)
        {
            return false;
        }

        var parts = encoded.Split(':');
        if (parts.Length is < 2 or > 3 || parts[1].Length == 0)
        {
            return false;
        }

        ReplyActionKind? kind = parts[0] switch
        {
            "ev" => ReplyActionKind.ShowEvidence,
            "st" => ReplyActionKind.SuggestStrategies,
            "wr" => ReplyActionKind.ReportWrong,
            "fu" => ReplyActionKind.FollowUp,
            "mo" => ReplyActionKind.More,
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        var argument = 0;
        if (parts.Length == 3 && !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out argument))
        {
            return false;
        }

        action = new ReplyAction(kind.Value, parts[1], argument);
        return true;
    }
}
