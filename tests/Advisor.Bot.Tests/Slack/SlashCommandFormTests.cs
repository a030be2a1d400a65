using Advisor.Bot.Slack;
using Microsoft.AspNetCore.WebUtilities;

namespace Advisor.Bot.Tests.Slack;

/// <summary>The slash command's fields are read without ParseQuery's dictionary, and must read exactly as it reads them.</summary>
public sealed class SlashCommandFormTests
{
    [Fact]
    public void Reads_a_slash_command_as_Slack_sends_it()
    {
        var form = SlashCommandForm.Parse(
            "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=test"
            + "&user_id=U2147483697&user_name=Steve&command=%2Fadvisor&text=is+Acme+a+client%3F+%C3%A9%26%3D"
            + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0");

        form.ShouldBe(new SlashCommandForm("is Acme a client? \u00e9&=", "U2147483697", "https://hooks.slack.com/commands/1234/5678"));
    }

    [Fact]
    public void Reads_every_body_the_way_ParseQuery_does()
    {
        // Names in any case, fields repeated, missing, empty, without '=', escaped names, '+' and stray '%'.
        string[] names = ["text", "TEXT", "Text", "user_id", "User_Id", "response_url", "te%78t", "user%5Fid", "token", "", "textx", "text "];
        string[] values = ["", "a", "a+b", "%2F%3F", "%E2%80%A6", "%", "%zz", "50%25", "x=y", "\u00e9", "http://x/y?z=1"];
        var random = new Random(2026);
        for (var i = 0; i < 5_000; i++)
        {
            var pairs = Enumerable.Range(0, random.Next(0, 8)).Select(_ => random.Next(10) == 0
                ? names[random.Next(names.Length)]
                : names[random.Next(names.Length)] + "=" + values[random.Next(values.Length)]);
            var body = (random.Next(8) == 0 ? "?" : "") + string.Join(random.Next(10) == 0 ? "&&" : "&", pairs);

            var expected = QueryHelpers.ParseQuery(body);
            SlashCommandForm.Parse(body).ShouldBe(
                new SlashCommandForm(
                    expected.GetValueOrDefault("text").ToString(),
                    expected.GetValueOrDefault("user_id").ToString(),
                    expected.GetValueOrDefault("response_url").ToString()),
                body);
        }
    }
}
