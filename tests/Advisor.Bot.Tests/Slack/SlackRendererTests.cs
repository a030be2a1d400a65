using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Slack;

namespace Advisor.Bot.Tests.Slack;

public sealed class SlackRendererTests
{
    public static Reply Huge() => new()
    {
        Id = "hugereply001",
        Title = new string('T', 400),
        Text = string.Join("\n", Enumerable.Range(0, 2000).Select(i => $"Line {i}: a client comes back for advice & trust <under> an agreement.")),
        Kind = ReplyKind.Client,
        Confidence = 0.9,
        Facts = [.. Enumerable.Range(0, 14).Select(i => new ReplyFact($"Fact {i}", new string('v', 2500)))],
        Sections = [.. Enumerable.Range(0, 60).Select(i => new ReplySection($"Section {i}", [new string('s', 3500), "short"]))],
        Buttons = [.. Enumerable.Range(0, 30).Select(i => new ReplyButton(new string('b', 100) + i, $"fu:hugereply001:{i}"))],
    };

    [Fact]
    public void Pages_an_answer_longer_than_the_block_limits_and_keeps_every_block_within_limits()
    {
        var reply = Huge();
        var first = SlackRenderer.Render(reply);
        first.HasMore.ShouldBeTrue();

        var pages = new List<SlackRenderer.SlackMessage> { first };
        while (pages[^1].HasMore)
        {
            pages.Add(SlackRenderer.Render(reply, pages.Count));
            pages.Count.ShouldBeLessThan(200);
        }

        foreach (var page in pages)
        {
            page.Blocks.Count.ShouldBeLessThanOrEqualTo(SlackRenderer.MaxBlocks);
            page.Text.Length.ShouldBeInRange(1, SlackRenderer.MaxFallbackText);
            foreach (var block in page.Blocks.OfType<JsonObject>())
            {
                switch (block["type"]!.GetValue<string>())
                {
                    case "header":
                        block["text"]!["text"]!.GetValue<string>().Length.ShouldBeLessThanOrEqualTo(150);
                        break;
                    case "section" when block["fields"] is JsonArray fields:
                        fields.Count.ShouldBeLessThanOrEqualTo(10);
                        fields.ShouldAllBe(f => f!["text"]!.GetValue<string>().Length <= 2000);
                        break;
                    case "section":
                        block["text"]!["text"]!.GetValue<string>().Length.ShouldBeLessThanOrEqualTo(SlackRenderer.MaxSectionText);
                        break;
                    case "actions":
                        var elements = block["elements"]!.AsArray();
                        elements.Count.ShouldBeLessThanOrEqualTo(25);
                        elements.ShouldAllBe(e => e!["text"]!["text"]!.GetValue<string>().Length <= 75 && e["action_id"]!.GetValue<string>().Length <= 255);
                        break;
                }
            }
        }

        // Nothing is lost: every line of the answer is on some page, and "More" points at the next page.
        var all = string.Join("\n", pages.SelectMany(p => p.Blocks).SelectMany(Texts));
        all.ShouldContain("Line 1999:");
        all.ShouldContain("Section 59");
        all.ShouldContain("&amp; trust &lt;under&gt;");
        first.Blocks.ToJsonString().ShouldContain("mo:hugereply001:1");
        pages[1].Blocks[0]!["text"]!["text"]!.GetValue<string>().ShouldEndWith($"(continued, 2/{pages.Count})");
        pages[^1].Blocks.ToJsonString().ShouldNotContain("\"mo:");
    }

    /// <summary>Every string value in a block, unescaped (ToJsonString escapes &amp; and friends).</summary>
    public static IEnumerable<string> Texts(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => Texts(p.Value)),
        JsonArray array => array.SelectMany(Texts),
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => [value.GetValue<string>()],
        _ => [],
    };

    [Fact]
    public void A_short_reply_is_one_message_with_header_facts_text_and_buttons()
    {
        var reply = new Reply
        {
            Id = "abc",
            Title = "Client (87% confidence)",
            Text = "A retainer means the buyer comes back for advice.",
            Kind = ReplyKind.Client,
            Facts = [new ReplyFact("Kind", "Client")],
            Sections = [new ReplySection("Why", ["Retainer [+2.0 client]"])],
            Buttons = [new ReplyButton("Show evidence", "ev:abc"), new ReplyButton("That's wrong", "wr:abc:2", ReplyButtonStyle.Danger)],
        };

        var message = SlackRenderer.Render(reply);

        message.HasMore.ShouldBeFalse();
        message.Text.ShouldBe("Client (87% confidence): A retainer means the buyer comes back for advice.");
        message.Blocks.Select(b => b!["type"]!.GetValue<string>()).ShouldBe(["header", "section", "section", "section", "actions"]);
        var buttons = message.Blocks[^1]!["elements"]!.AsArray();
        buttons.Select(b => b!["value"]!.GetValue<string>()).ShouldBe(["ev:abc", "wr:abc:2"]);
        buttons[1]!["style"]!.GetValue<string>().ShouldBe("danger");
    }

    [Fact]
    public void The_fallback_text_is_title_and_text_trimmed_to_the_limit_at_every_length_around_it()
    {
        // Written from a pooled buffer: the same text as joining the two and trimming the result.
        var cases = new List<(string Title, string Text)> { ("", ""), ("", " \n "), ("Title only", ""), ("", "text only"), ("T", "x") };
        foreach (var textLength in new[] { 2990, 2995, 2996, 2997, 2998, 2999, 3000, 3001, 5000 })
        {
            foreach (var title in new[] { "Client (80% confidence)", "", new string('T', 3100) })
            {
                cases.Add((title, new string('a', textLength)));
                // Spaces where the cut falls are trimmed before the ellipsis.
                cases.Add((title, new string('b', Math.Max(0, textLength - 30)) + new string(' ', 30) + "tail \U0001F600"));
            }
        }

        foreach (var (title, text) in cases)
        {
            var fallback = string.IsNullOrWhiteSpace(text) ? title : $"{title}: {text}";
            var expected = TextChunks.Trim(fallback.Length == 0 ? "Advisor" : fallback, SlackRenderer.MaxFallbackText);

            SlackRenderer.Render(new Reply { Title = title, Text = text }).Text.ShouldBe(expected);
            SlackRenderer.CommandResponse(new Reply { Title = title, Text = text })["text"]!.GetValue<string>().ShouldBe(expected);
        }
    }
}
