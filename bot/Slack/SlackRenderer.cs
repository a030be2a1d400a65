using System.Text;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;

namespace Advisor.Bot.Slack;

/// <summary>
/// Block Kit for a <see cref="Reply"/>, within Slack's limits: 50 blocks, 3,000 characters a section, header 150,
/// 10 fields of 2,000, button text 75, 25 elements an actions block. A reply too long for one message is paged:
/// each page ends with a "More" button that renders the next page of the remembered reply. Always a plain
/// <c>text</c> fallback.
/// </summary>
public static class SlackRenderer
{
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxHeaderText = 150;
    public const int MaxButtonText = 75;
    public const int MaxFallbackText = 3000;
    private const int ContentBlocksPerPage = 44;

    public sealed record SlackMessage(string Text, JsonArray Blocks, bool HasMore);

    public static SlackMessage Render(Reply reply, int page = 0)
    {
        var content = ContentBlocks(reply);
        var pages = Math.Max(1, (content.Count + ContentBlocksPerPage - 1) / ContentBlocksPerPage);
        page = Math.Clamp(page, 0, pages - 1);

        var suffix = page == 0 ? "" : $" (continued, {page + 1}/{pages})";
        var title = TextChunks.Trim(reply.Title, MaxHeaderText - suffix.Length) + suffix;
        var blocks = new JsonArray();
        if (!string.IsNullOrWhiteSpace(title))
        {
            blocks.Add(new JsonObject
            {
                ["type"] = "header",
                ["text"] = PlainText(title),
            });
        }

        foreach (var block in content.Skip(page * ContentBlocksPerPage).Take(ContentBlocksPerPage))
        {
            blocks.Add(block);
        }

        var buttons = page == 0 ? reply.Buttons.Take(24).Select(Button).ToList() : [];
        var hasMore = page < pages - 1 && !string.IsNullOrEmpty(reply.Id);
        if (hasMore)
        {
            buttons.Add(Button(new ReplyButton("More", new ReplyAction(ReplyActionKind.More, reply.Id, page + 1).Encode(), ReplyButtonStyle.Primary)));
        }

        if (buttons.Count > 0)
        {
            blocks.Add(new JsonObject { ["type"] = "actions", ["elements"] = new JsonArray([.. buttons]) });
        }

        var fallback = string.IsNullOrWhiteSpace(reply.Text) ? reply.Title : $"{reply.Title}: {reply.Text}";
        return new SlackMessage(TextChunks.Trim(fallback.Length == 0 ? "Advisor" : fallback, MaxFallbackText), blocks, hasMore);
    }

    /// <summary>Body of a slash command's HTTP response, or of a post to its response_url.</summary>
    public static JsonObject CommandResponse(Reply reply, int page = 0, bool viaResponseUrl = false)
    {
        var message = Render(reply, page);
        var body = new JsonObject
        {
            ["response_type"] = reply.IsPrivate ? "ephemeral" : "in_channel",
            ["text"] = message.Text,
            ["blocks"] = message.Blocks,
        };
        if (viaResponseUrl)
        {
            body["replace_original"] = false;
        }

        return body;
    }

    /// <summary>Body of chat.postMessage.</summary>
    public static JsonObject PostMessage(Reply reply, string channel, string? threadTs)
    {
        var message = Render(reply);
        var body = new JsonObject { ["channel"] = channel, ["text"] = message.Text, ["blocks"] = message.Blocks };
        if (!string.IsNullOrEmpty(threadTs))
        {
            body["thread_ts"] = threadTs;
        }

        return body;
    }

    /// <summary>Slack's mrkdwn treats &amp;, &lt; and &gt; as control characters.</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal);

    private static List<JsonObject> ContentBlocks(Reply reply)
    {
        var blocks = new List<JsonObject>();
        var facts = reply.Facts.Take(10)
            .Select(f => (JsonNode)Mrkdwn(TextChunks.Trim($"*{Escape(f.Label)}*\n{Escape(f.Value)}", 2000)))
            .ToArray();
        if (facts.Length > 0)
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = new JsonArray(facts) });
        }

        foreach (var chunk in TextChunks.Split(Escape(reply.Text), MaxSectionText).Where(c => c.Length > 0))
        {
            blocks.Add(Section(chunk));
        }

        foreach (var section in reply.Sections)
        {
            // One builder for the whole list: a string per bullet and then their join was a large share of what a
            // reply's rendering allocated.
            var text = new StringBuilder().Append('*').Append(Escape(section.Heading)).Append("*\n");
            for (var i = 0; i < section.Items.Count; i++)
            {
                (i == 0 ? text : text.Append('\n')).Append("\u2022 ").Append(Escape(section.Items[i]));
            }

            foreach (var chunk in TextChunks.Split(text.ToString(), MaxSectionText))
            {
                blocks.Add(Section(chunk));
            }
        }

        return blocks;
    }

    private static JsonObject Section(string mrkdwn) => new() { ["type"] = "section", ["text"] = Mrkdwn(mrkdwn) };

    private static JsonObject Mrkdwn(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    private static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text, ["emoji"] = true };

    private static JsonObject Button(ReplyButton button)
    {
        var element = new JsonObject
        {
            ["type"] = "button",
            ["text"] = PlainText(TextChunks.Trim(button.Label, MaxButtonText)),
            ["action_id"] = button.ActionId,
            ["value"] = button.ActionId,
        };
        if (button.Style != ReplyButtonStyle.Default)
        {
            element["style"] = button.Style == ReplyButtonStyle.Primary ? "primary" : "danger";
        }

        return element;
    }
}
