using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;

namespace Advisor.Bot.Slack;

/// <summary>
/// Block Kit for a <see cref="Reply"/>, within Slack's limits: 50 blocks, 3,000 characters a section, header 150,
/// 10 fields of 2,000, button text 75, 25 elements an actions block. A reply too long for one message is paged:
/// each page ends with a "More" button that renders the next page of the remembered reply. Always a plain
/// <c>text</c> fallback.
/// </summary>
/// <remarks>
/// The blocks are written straight to a <see cref="Utf8JsonWriter"/>: a slash command's answer goes from the reply to
/// the response body without a <see cref="JsonObject"/> tree in between. Building that tree (an object, a property
/// list and a boxed value per field) and then walking it to write it was 3–4 % of a slash command's CPU and about a
/// fifth of what it allocated (docs/benchmarks.md, "Slack slash command: CPU per request"). The tree forms
/// (<see cref="Render"/>, <see cref="CommandResponse"/>, <see cref="PostMessage"/>) are read back from the same
/// writer, so there is one rendering and the bodies are byte for byte what the tree would have written.
/// </remarks>
public static class SlackRenderer
{
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxHeaderText = 150;
    public const int MaxButtonText = 75;
    public const int MaxFallbackText = 3000;
    private const int ContentBlocksPerPage = 44;
    private const int MaxFields = 10;
    private const int MaxFieldText = 2000;
    private const int MaxButtons = 24;

    public sealed record SlackMessage(string Text, JsonArray Blocks, bool HasMore);

    public static SlackMessage Render(Reply reply, int page = 0)
    {
        var hasMore = false;
        var message = Tree(writer =>
        {
            writer.WriteStartObject();
            hasMore = WriteTextAndBlocks(writer, reply, page);
            writer.WriteEndObject();
        });
        var blocks = (JsonArray)message["blocks"]!;
        // Detached from the message so that the caller may add it to a tree of its own.
        message.Remove("blocks");
        return new SlackMessage(message["text"]!.GetValue<string>(), blocks, hasMore);
    }

    /// <summary>Body of a slash command's HTTP response, or of a post to its response_url.</summary>
    public static JsonObject CommandResponse(Reply reply, int page = 0, bool viaResponseUrl = false) =>
        Tree(writer => WriteCommandResponse(writer, reply, page, viaResponseUrl));

    /// <summary>Writes the body of <see cref="CommandResponse"/> without building it as a tree first.</summary>
    public static void WriteCommandResponse(Utf8JsonWriter writer, Reply reply, int page = 0, bool viaResponseUrl = false)
    {
        writer.WriteStartObject();
        writer.WriteString("response_type", reply.IsPrivate ? "ephemeral" : "in_channel");
        WriteTextAndBlocks(writer, reply, page);
        if (viaResponseUrl)
        {
            writer.WriteBoolean("replace_original", false);
        }

        writer.WriteEndObject();
    }

    /// <summary>Body of chat.postMessage.</summary>
    public static JsonObject PostMessage(Reply reply, string channel, string? threadTs) => Tree(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("channel", channel);
        WriteTextAndBlocks(writer, reply, 0);
        if (!string.IsNullOrEmpty(threadTs))
        {
            writer.WriteString("thread_ts", threadTs);
        }

        writer.WriteEndObject();
    });

    /// <summary>Slack's mrkdwn treats &amp;, &lt; and &gt; as control characters.</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>
    /// Writes the <c>text</c> fallback and the <c>blocks</c> of one page into the object the writer is in; true when
    /// a later page follows.
    /// </summary>
    private static bool WriteTextAndBlocks(Utf8JsonWriter writer, Reply reply, int page)
    {
        WriteFallbackText(writer, reply);

        var content = ContentBlocks(reply);
        var pages = Math.Max(1, (content.Count + ContentBlocksPerPage - 1) / ContentBlocksPerPage);
        page = Math.Clamp(page, 0, pages - 1);

        writer.WritePropertyName("blocks");
        writer.WriteStartArray();
        var suffix = page == 0 ? "" : $" (continued, {page + 1}/{pages})";
        var title = TextChunks.Trim(reply.Title, MaxHeaderText - suffix.Length) + suffix;
        if (!string.IsNullOrWhiteSpace(title))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "header");
            writer.WritePropertyName("text");
            WritePlainText(writer, title);
            writer.WriteEndObject();
        }

        var last = Math.Min(content.Count, (page + 1) * ContentBlocksPerPage);
        for (var i = page * ContentBlocksPerPage; i < last; i++)
        {
            content[i].WriteTo(writer);
        }

        var buttons = page == 0 ? Math.Min(reply.Buttons.Count, MaxButtons) : 0;
        var hasMore = page < pages - 1 && !string.IsNullOrEmpty(reply.Id);
        if (buttons > 0 || hasMore)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "actions");
            writer.WritePropertyName("elements");
            writer.WriteStartArray();
            for (var i = 0; i < buttons; i++)
            {
                WriteButton(writer, reply.Buttons[i]);
            }

            if (hasMore)
            {
                WriteButton(writer, new ReplyButton("More", new ReplyAction(ReplyActionKind.More, reply.Id, page + 1).Encode(), ReplyButtonStyle.Primary));
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return hasMore;
    }

    /// <summary>
    /// The plain <c>text</c> fallback: "title: text" trimmed to <see cref="MaxFallbackText"/> (as
    /// <see cref="TextChunks.Trim"/> trims), or the title alone when there is no text. Joined in a pooled buffer of
    /// at most the limit: the joined string, as long as the whole answer, was only ever written and trimmed.
    /// </summary>
    private static void WriteFallbackText(Utf8JsonWriter writer, Reply reply)
    {
        if (string.IsNullOrWhiteSpace(reply.Text))
        {
            writer.WriteString("text", TextChunks.Trim(reply.Title.Length == 0 ? "Advisor" : reply.Title, MaxFallbackText));
            return;
        }

        const string separator = ": ";
        var length = reply.Title.Length + separator.Length + reply.Text.Length;
        var buffer = ArrayPool<char>.Shared.Rent(MaxFallbackText);
        try
        {
            var joined = buffer.AsSpan(0, Math.Min(length, MaxFallbackText));
            var rest = joined;
            foreach (var part in (ReadOnlySpan<string>)[reply.Title, separator, reply.Text])
            {
                var taken = Math.Min(part.Length, rest.Length);
                part.AsSpan(0, taken).CopyTo(rest);
                rest = rest[taken..];
            }

            if (length <= MaxFallbackText)
            {
                writer.WriteString("text", joined);
                return;
            }

            var kept = joined[..(MaxFallbackText - 1)].TrimEnd();
            buffer[kept.Length] = TextChunks.Ellipsis[0];
            writer.WriteString("text", buffer.AsSpan(0, kept.Length + 1));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The reply's sections as mrkdwn text, before paging: a block of fields (the facts), then the text and each list,
    /// split where they exceed a section's limit.
    /// </summary>
    private static List<ContentBlock> ContentBlocks(Reply reply)
    {
        var blocks = new List<ContentBlock>();
        var facts = Math.Min(reply.Facts.Count, MaxFields);
        if (facts > 0)
        {
            var fields = new string[facts];
            for (var i = 0; i < facts; i++)
            {
                var fact = reply.Facts[i];
                fields[i] = TextChunks.Trim($"*{Escape(fact.Label)}*\n{Escape(fact.Value)}", MaxFieldText);
            }

            blocks.Add(new ContentBlock(null, fields));
        }

        foreach (var chunk in TextChunks.Split(Escape(reply.Text), MaxSectionText))
        {
            if (chunk.Length > 0)
            {
                blocks.Add(new ContentBlock(chunk, null));
            }
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
                blocks.Add(new ContentBlock(chunk, null));
            }
        }

        return blocks;
    }

    /// <summary>A section block: one mrkdwn text, or (for the facts) mrkdwn fields.</summary>
    private readonly record struct ContentBlock(string? Text, string[]? Fields)
    {
        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "section");
            if (Fields is { } fields)
            {
                writer.WritePropertyName("fields");
                writer.WriteStartArray();
                foreach (var field in fields)
                {
                    WriteMrkdwn(writer, field);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WritePropertyName("text");
                WriteMrkdwn(writer, Text ?? "");
            }

            writer.WriteEndObject();
        }
    }

    private static void WriteMrkdwn(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "mrkdwn");
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }

    private static void WritePlainText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "plain_text");
        writer.WriteString("text", text);
        writer.WriteBoolean("emoji", true);
        writer.WriteEndObject();
    }

    private static void WriteButton(Utf8JsonWriter writer, ReplyButton button)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "button");
        writer.WritePropertyName("text");
        WritePlainText(writer, TextChunks.Trim(button.Label, MaxButtonText));
        writer.WriteString("action_id", button.ActionId);
        writer.WriteString("value", button.ActionId);
        if (button.Style != ReplyButtonStyle.Default)
        {
            writer.WriteString("style", button.Style == ReplyButtonStyle.Primary ? "primary" : "danger");
        }

        writer.WriteEndObject();
    }

    /// <summary>What <paramref name="write"/> writes, read back as a tree (for the paths that post or inspect it).</summary>
    private static JsonObject Tree(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return (JsonObject)JsonNode.Parse(buffer.WrittenSpan)!;
    }
}
