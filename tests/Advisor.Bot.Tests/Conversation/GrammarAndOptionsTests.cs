using Advisor.Bot.Conversation;
using Advisor.Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Tests.Conversation;

public sealed class GrammarAndOptionsTests
{
    [Theory]
    [InlineData("help", typeof(ShowHelp))]
    [InlineData("", typeof(ShowHelp))]
    [InlineData("compare", typeof(CompareKinds))]
    [InlineData("classify a yearly retainer", typeof(ClassifyDescription))]
    [InlineData("buyer Acme Ltd", typeof(LookUpBuyer))]
    [InlineData("strategy hybrid banking", typeof(SuggestStrategiesFor))]
    [InlineData("strategy for pets", typeof(AskQuestion))]
    [InlineData("is Acme a client?", typeof(AskQuestion))]
    [InlineData("compare these two buyers for me", typeof(AskQuestion))]
    public void The_command_grammar_falls_back_to_a_question(string text, Type expected) =>
        CommandGrammar.Parse(text, ["usage"]).ShouldBeOfType(expected);

    [Fact]
    public void Strategy_carries_kind_and_industry() =>
        CommandGrammar.Parse("strategy Customer  fast food", []).ShouldBe(new SuggestStrategiesFor(ReplyKind.Customer, "fast food"));

    [Theory]
    [InlineData(ReplyActionKind.ShowEvidence, 0, "ev:abcdefghijkm")]
    [InlineData(ReplyActionKind.ReportWrong, 2, "wr:abcdefghijkm:2")]
    [InlineData(ReplyActionKind.More, 12, "mo:abcdefghijkm:12")]
    public void Button_actions_round_trip_in_a_short_id(ReplyActionKind kind, int argument, string encoded)
    {
        var action = new ReplyAction(kind, "abcdefghijkm", argument);
        action.Encode().ShouldBe(encoded);
        ReplyAction.TryParse(encoded, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(action);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xx:abc")]
    [InlineData("ev:")]
    [InlineData("wr:abc:-1")]
    [InlineData("wr:abc:x")]
    [InlineData("ev:a:b:c")]
    public void Unknown_button_actions_are_rejected(string encoded) => ReplyAction.TryParse(encoded, out _).ShouldBeFalse();

    [Theory]
    [InlineData("--Slack:ApiBaseUrl", "not a url")]
    [InlineData("--Discord:PublicKey", "abc")]
    [InlineData("--Discord:ApplicationId", "my-app")]
    [InlineData("--Advisor:ServerAddress", "localhost:5080")]
    [InlineData("--Slack:AnswerBudget", "00:00:05")]
    [InlineData("--Slack:BotToken", "not-a-slack-token")]
    public async Task Bad_configuration_stops_the_bot_at_start(string key, string value)
    {
        await using var app = BotHost.Build(["--urls", "http://127.0.0.1:0", "--Advisor:ServerAddress", "http://127.0.0.1:1", key, value]);
        var error = await Should.ThrowAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
        error.Message.ShouldContain(key.TrimStart('-'));
        if (key.Contains("Token", StringComparison.Ordinal))
        {
            error.Message.ShouldNotContain(value);
        }
    }
}
