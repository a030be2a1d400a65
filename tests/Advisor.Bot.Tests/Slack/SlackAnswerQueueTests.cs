using System.Net;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Hosting;
using Advisor.Bot.Slack;
using Advisor.Bot.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Advisor.Bot.Tests.Slack;

/// <summary>
/// Slash commands wait for a turn at the bot's answer gate, oldest first. The test holds the only turn itself, so
/// which commands wait is decided by the test, not by the machine's speed.
/// </summary>
public sealed class SlackAnswerQueueTests(AdvisorServerFixture server)
{
    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
    }

    private static async Task<IDisposable> TakeTheOnlyTurnAsync(BotUnderTest bot)
    {
        var turn = await bot.Services.GetRequiredKeyedService<AnswerGate>(SlackAdapter.GateKey).EnterAsync(TestContext.Current.CancellationToken);
        turn.IsAcquired.ShouldBeTrue();
        return turn;
    }

    [Fact]
    public async Task A_command_still_waiting_for_its_turn_when_the_budget_runs_out_is_acknowledged_then_answered_at_response_url()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address, "--Slack:ConcurrentAnswers", "1", "--Slack:AnswerBudget", "00:00:00.100");
        var turn = await TakeTheOnlyTurnAsync(bot);

        // Help is complete the moment it runs, so without the queue it would always be answered inline.
        var ack = await JsonAsync(await bot.SlashCommandAsync("help", bot.ResponseUrl("queued")));
        ack["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
        ack["text"]!.GetValue<string>().ShouldContain("Thinking");
        bot.Api.Requests.ShouldNotContain(r => r.Path == "/response/queued");

        turn.Dispose();
        var posted = await bot.Api.WaitForAsync(r => r.Path == "/response/queued");
        posted.Json["blocks"]!.ToJsonString().ShouldContain("/advisor classify");
    }

    [Fact]
    public async Task A_command_that_finds_the_queue_full_is_told_at_once_that_the_advisor_is_busy()
    {
        await using var bot = await BotUnderTest.StartAsync(
            server.Address, "--Slack:ConcurrentAnswers", "1", "--Slack:QueuedAnswers", "1", "--Slack:AnswerBudget", "00:00:00");
        var turn = await TakeTheOnlyTurnAsync(bot);

        // The first waits in the queue (acknowledged, the budget being zero), the second finds it full.
        var queued = await JsonAsync(await bot.SlashCommandAsync("help", bot.ResponseUrl("first")));
        queued["text"]!.GetValue<string>().ShouldContain("Thinking");
        var busy = await JsonAsync(await bot.SlashCommandAsync("client vs customer?", bot.ResponseUrl("second")));
        busy["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
        busy["text"]!.GetValue<string>().ShouldContain(Reply.BusyText);

        // Once the turn is free the queued one is answered; the busy one was answered already and is not repeated.
        turn.Dispose();
        (await bot.Api.WaitForAsync(r => r.Path == "/response/first")).Json["blocks"]!.ToJsonString().ShouldContain("/advisor classify");
        var again = await JsonAsync(await bot.SlashCommandAsync("help", bot.ResponseUrl("third")));
        again["text"]!.GetValue<string>().ShouldNotContain(Reply.BusyText);
        bot.Api.Requests.ShouldNotContain(r => r.Path == "/response/second");
    }
}
