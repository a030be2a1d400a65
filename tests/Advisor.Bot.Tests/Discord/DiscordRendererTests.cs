using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Discord;
using Advisor.Bot.Tests.Slack;

namespace Advisor.Bot.Tests.Discord;

public sealed class DiscordRendererTests
{
    private static int EmbedLength(JsonObject embed) =>
        (embed["title"]?.GetValue<string>().Length ?? 0)
        + (embed["description"]?.GetValue<string>().Length ?? 0)
        + (embed["footer"]?["text"]?.GetValue<string>().Length ?? 0)
        + (embed["fields"]?.AsArray().Sum(f => f!["name"]!.GetValue<string>().Length + f["value"]!.GetValue<string>().Length) ?? 0);

    [Fact]
    public void Pages_an_answer_longer_than_the_embed_limits_and_keeps_each_page_within_them()
    {
        var reply = SlackRendererTests.Huge();
        var pages = new List<JsonObject>();
        for (var page = 0; page < 300; page++)
        {
            var message = DiscordRenderer.Render(reply, page);
            pages.Add(message);
            var embeds = message["embeds"]!.AsArray();
            embeds.Count.ShouldBe(1);
            var embed = embeds[0]!.AsObject();
            embed["title"]!.GetValue<string>().Length.ShouldBeLessThanOrEqualTo(256);
            (embed["description"]?.GetValue<string>().Length ?? 0).ShouldBeLessThanOrEqualTo(4096);
            var fields = embed["fields"]?.AsArray() ?? [];
            fields.Count.ShouldBeLessThanOrEqualTo(25);
            fields.ShouldAllBe(f => f!["name"]!.GetValue<string>().Length <= 256 && f["value"]!.GetValue<string>().Length <= 1024 && f["value"]!.GetValue<string>().Length > 0);
            EmbedLength(embed).ShouldBeLessThanOrEqualTo(6000);

            var rows = message["components"]!.AsArray();
            rows.Count.ShouldBeLessThanOrEqualTo(5);
            rows.ShouldAllBe(r => r!["components"]!.AsArray().Count <= 5);
            rows.SelectMany(r => r!["components"]!.AsArray()).ShouldAllBe(b => b!["custom_id"]!.GetValue<string>().Length <= 100 && b["label"]!.GetValue<string>().Length <= 80);
            if (!message["components"]!.ToJsonString().Contains($"mo:{reply.Id}:{page + 1}", StringComparison.Ordinal))
            {
                break;
            }
        }

        pages.Count.ShouldBeGreaterThan(1);
        var all = string.Join("\n", pages.SelectMany(p => SlackRendererTests.Texts(p)));
        all.ShouldContain("Line 1999:");
        all.ShouldContain("Section 59");
        pages[^1]["embeds"]![0]!["footer"]!["text"]!.GetValue<string>().ShouldBe($"Page {pages.Count} of {pages.Count}");
    }

    [Theory]
    [InlineData(ReplyKind.Client, 0x2ECC71)]
    [InlineData(ReplyKind.Customer, 0x3498DB)]
    [InlineData(ReplyKind.Hybrid, 0x9B59B6)]
    [InlineData(ReplyKind.Undetermined, 0x95A5A6)]
    public void Colour_follows_the_kind(ReplyKind kind, int colour)
    {
        var message = DiscordRenderer.Render(new Reply { Title = "t", Kind = kind, Text = "x" }, ephemeral: true);
        message["embeds"]![0]!["color"]!.GetValue<int>().ShouldBe(colour);
        message["flags"]!.GetValue<int>().ShouldBe(64);
    }
}
