using System.Net;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Discord;
using Advisor.Bot.Hosting;
using Advisor.Bot.Tests.Infrastructure;
using Advisor.Bot.Tests.Slack;
using Microsoft.Extensions.DependencyInjection;

namespace Advisor.Bot.Tests.Discord;

/// <summary>Requests signed in the test with an Ed25519 key made here, against the real bot and a real advisory server.</summary>
public sealed class DiscordInteractionTests(AdvisorServerFixture server)
{
    private static string Command(string subcommand, params (string Name, JsonNode Value)[] options) => new JsonObject
    {
        ["type"] = 2,
        ["id"] = "1300000000000000001",
        ["application_id"] = BotUnderTest.ApplicationId,
        ["token"] = "interaction-token-" + subcommand,
        ["member"] = new JsonObject { ["user"] = new JsonObject { ["id"] = "4000000000000000001" } },
        ["data"] = new JsonObject
        {
            ["name"] = "advisor",
            ["type"] = 1,
            ["options"] = new JsonArray(new JsonObject
            {
                ["type"] = 1,
                ["name"] = subcommand,
                ["options"] = new JsonArray([.. options.Select(o => (JsonNode)new JsonObject { ["name"] = o.Name, ["type"] = 3, ["value"] = o.Value })]),
            }),
        },
    }.ToJsonString();

    private static string Component(string customId) => new JsonObject
    {
        ["type"] = 3,
        ["application_id"] = BotUnderTest.ApplicationId,
        ["token"] = "interaction-token-button",
        ["user"] = new JsonObject { ["id"] = "4000000000000000002" },
        ["data"] = new JsonObject { ["custom_id"] = customId, ["component_type"] = 2 },
    }.ToJsonString();

    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
    }

    /// <summary>The answer's message: type 4 data when ready within the budget, else the PATCH that finished the type 5.</summary>
    private static async Task<JsonObject> AnswerAsync(BotUnderTest bot, string body)
    {
        var json = await JsonAsync(await bot.DiscordAsync(body));
        if (json["type"]!.GetValue<int>() == 4)
        {
            return json["data"]!.AsObject();
        }

        json["type"]!.GetValue<int>().ShouldBe(5);
        var token = JsonNode.Parse(body)!["token"]!.GetValue<string>();
        return (await bot.Api.WaitForAsync(r => r.Method == "PATCH" && r.Path.Contains(token, StringComparison.Ordinal))).Json;
    }

    /// <summary>
    /// A bot with one answer turn, which the test takes: a command sent then cannot finish until the turn is released, so it
    /// is deferred (type 5) whatever the machine's speed. A zero budget alone left a race: an answer that completed
    /// before the budget check (compare needs no server call) was sent inline as type 4.
    /// </summary>
    private static Task<BotUnderTest> StartWithOneTurnAsync(Uri serverAddress) =>
        BotUnderTest.StartAsync(serverAddress, "--Discord:ConcurrentAnswers", "1", "--Discord:AnswerBudget", "00:00:00");

    private static async Task<IDisposable> TakeTheOnlyTurnAsync(BotUnderTest bot)
    {
        var turn = await bot.Services.GetRequiredKeyedService<AnswerGate>(DiscordAdapter.GateKey).EnterAsync(TestContext.Current.CancellationToken);
        turn.IsAcquired.ShouldBeTrue();
        return turn;
    }

    [Fact]
    public async Task Ping_gets_pong()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var json = await JsonAsync(await bot.DiscordAsync("""{"type":1,"id":"1","application_id":"1000000000000000001","token":"t"}"""));
        json["type"]!.GetValue<int>().ShouldBe(1);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Forged_or_missing_signatures_get_401_and_no_work(bool forge, bool unsigned)
    {
        await using var bot = await StartWithOneTurnAsync(server.Address);
        var turn = await TakeTheOnlyTurnAsync(bot);
        (await bot.DiscordAsync("""{"type":1}""", forge, unsigned)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await bot.DiscordAsync(Command("ask", ("question", "client vs customer?")), forge, unsigned)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // A properly signed request afterwards is deferred and finished: the forged one would have been too.
        (await JsonAsync(await bot.DiscordAsync(Command("compare"))))["type"]!.GetValue<int>().ShouldBe(5);
        turn.Dispose();
        await bot.Api.WaitForAsync(r => r.Method == "PATCH");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        bot.Api.Requests.Select(r => r.Path).ShouldBe(["/api/v10/webhooks/1000000000000000001/interaction-token-compare/messages/@original"]);
    }

    public static TheoryData<string, string[], string, int> Subcommands => new()
    {
        { "ask", ["question", "is a buyer on a yearly retainer a client?"], "Client (", 0x2ECC71 },
        { "classify", ["description", "someone who bought a sandwich once and never came back"], "Customer (", 0x3498DB },
        { "buyer", ["name", "Acme"], "Advisor", 0x5865F2 },
        { "compare", [], "Client vs customer", 0x5865F2 },
        { "strategy", ["kind", "customer", "industry", "retail"], "Strategies for customers in retail", 0x3498DB },
    };

    [Theory]
    [MemberData(nameof(Subcommands))]
    public async Task Each_subcommand_answers_with_an_embed(string subcommand, string[] options, string title, int colour)
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var pairs = options.Chunk(2).Select(p => (p[0], (JsonNode)JsonValue.Create(p[1]))).ToArray();
        var data = await AnswerAsync(bot, Command(subcommand, pairs));

        data.ContainsKey("flags").ShouldBeFalse();
        var embed = data["embeds"]![0]!.AsObject();
        embed["title"]!.GetValue<string>().ShouldStartWith(title);
        embed["color"]!.GetValue<int>().ShouldBe(colour);
        data["allowed_mentions"]!["parse"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Help_lists_every_subcommand_privately()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var json = await JsonAsync(await bot.DiscordAsync(Command("help")));
        json["type"]!.GetValue<int>().ShouldBe(4);
        json["data"]!["flags"]!.GetValue<int>().ShouldBe(64);
        var text = string.Join("\n", SlackRendererTests.Texts(json));
        foreach (var sub in new[] { "/advisor ask", "/advisor classify", "/advisor buyer", "/advisor compare", "/advisor strategy", "/advisor help" })
        {
            text.ShouldContain(sub);
        }
    }

    [Fact]
    public async Task Private_true_makes_the_answer_ephemeral()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var body = JsonNode.Parse(Command("compare"))!;
        body["data"]!["options"]![0]!["options"]!.AsArray().Add(new JsonObject { ["name"] = "private", ["type"] = 5, ["value"] = true });
        var json = await JsonAsync(await bot.DiscordAsync(body.ToJsonString()));
        json["data"]!["flags"]!.GetValue<int>().ShouldBe(64);
    }

    [Fact]
    public async Task A_slow_answer_is_deferred_and_finished_by_patching_the_original()
    {
        await using var bot = await StartWithOneTurnAsync(server.Address);
        var turn = await TakeTheOnlyTurnAsync(bot);
        var body = JsonNode.Parse(Command("ask", ("question", "client vs customer?")))!;
        body["data"]!["options"]![0]!["options"]!.AsArray().Add(new JsonObject { ["name"] = "private", ["type"] = 5, ["value"] = true });

        var json = await JsonAsync(await bot.DiscordAsync(body.ToJsonString()));
        json["type"]!.GetValue<int>().ShouldBe(5);
        json["data"]!["flags"]!.GetValue<int>().ShouldBe(64);
        bot.Api.Requests.ShouldNotContain(r => r.Method == "PATCH", "the answer waits for the turn the test holds");
        turn.Dispose();

        var patch = await bot.Api.WaitForAsync(r => r.Method == "PATCH");
        patch.Path.ShouldBe("/api/v10/webhooks/1000000000000000001/interaction-token-ask/messages/@original");
        patch.Header("Authorization").ShouldBeEmpty();
        patch.Json["embeds"]![0]!["title"]!.GetValue<string>().ShouldBe("Client vs customer");
    }

    [Fact]
    public async Task Server_down_answers_a_short_ephemeral_unavailable_in_time()
    {
        await using var bot = await BotUnderTest.StartAsync(BotUnderTest.UnusedAddress());
        var json = await JsonAsync(await bot.DiscordAsync(Command("ask", ("question", "is a buyer on a yearly retainer a client?"))));
        json["type"]!.GetValue<int>().ShouldBe(4);
        json["data"]!["flags"]!.GetValue<int>().ShouldBe(64);
        json["data"]!["embeds"]![0]!["description"]!.GetValue<string>().ShouldContain("unavailable, try again");
    }

    [Fact]
    public async Task Autocomplete_answers_with_at_most_25_choices()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var body = new JsonObject
        {
            ["type"] = 4,
            ["application_id"] = BotUnderTest.ApplicationId,
            ["token"] = "t",
            ["data"] = new JsonObject
            {
                ["name"] = "advisor",
                ["options"] = new JsonArray(new JsonObject
                {
                    ["type"] = 1,
                    ["name"] = "buyer",
                    ["options"] = new JsonArray(new JsonObject { ["name"] = "name", ["type"] = 3, ["value"] = "Ac", ["focused"] = true }),
                }),
            },
        };
        var json = await JsonAsync(await bot.DiscordAsync(body.ToJsonString()));
        json["type"]!.GetValue<int>().ShouldBe(8);
        var choices = json["data"]!["choices"]!.AsArray();
        choices.Count.ShouldBeLessThanOrEqualTo(25);
        choices.ShouldAllBe(c => c!["name"]!.GetValue<string>().Length <= 100 && c["value"]!.GetValue<string>().Length <= 100);
    }

    [Fact]
    public async Task A_button_is_answered_as_a_component_interaction()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var reply = bot.Remember(new Reply { Title = "Customer (70% confidence)", Kind = ReplyKind.Customer }, new ReplySubject
        {
            Kind = ReplyKind.Customer,
            Evidence = ["One-off purchase [-2.0 customer]", "Price focus [-1.0 customer]"],
        });

        var json = await JsonAsync(await bot.DiscordAsync(Component(new ReplyAction(ReplyActionKind.ShowEvidence, reply.Id).Encode())));
        json["type"]!.GetValue<int>().ShouldBe(4);
        var text = string.Join("\n", SlackRendererTests.Texts(json));
        text.ShouldContain("One-off purchase");
        text.ShouldContain("Price focus");
    }

    [Fact]
    public async Task The_buttons_of_a_real_answer_work_as_component_interactions()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var answer = await AnswerAsync(bot, Command("ask", ("question", "is a buyer on a yearly retainer a client?")));
        var ids = answer["components"]!.AsArray().SelectMany(r => r!["components"]!.AsArray()).Select(b => b!["custom_id"]!.GetValue<string>()).ToList();
        ids.ShouldAllBe(id => id.Length <= 100);

        var evidence = await JsonAsync(await bot.DiscordAsync(Component(ids.First(i => i.StartsWith("ev:", StringComparison.Ordinal)))));
        string.Join("\n", SlackRendererTests.Texts(evidence)).ShouldContain("Retainer");
        var feedback = await AnswerAsync(bot, Component(ids.First(i => i.StartsWith("wr:", StringComparison.Ordinal))));
        feedback["embeds"]![0]!["title"]!.GetValue<string>().ShouldBe("Thanks for the feedback");
    }

    [Fact]
    public async Task More_pages_an_answer_longer_than_the_embed_limits()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var reply = bot.Remember(SlackRendererTests.Huge() with { Id = "" }, new ReplySubject { Kind = ReplyKind.Client });
        var json = await JsonAsync(await bot.DiscordAsync(Component(new ReplyAction(ReplyActionKind.More, reply.Id, 1).Encode())));
        json["type"]!.GetValue<int>().ShouldBe(4);
        json["data"]!["embeds"]![0]!["footer"]!["text"]!.GetValue<string>().ShouldStartWith("Page 2 of ");
        json["data"]!["components"]!.ToJsonString().ShouldContain($"mo:{reply.Id}:2");
    }

    [Fact]
    public async Task A_429_on_the_deferred_edit_is_retried_after_retry_after()
    {
        await using var bot = await StartWithOneTurnAsync(server.Address);
        var turn = await TakeTheOnlyTurnAsync(bot);
        bot.Api.RespondOnce(r => r.Method == "PATCH", new FakeResponse(429, """{"message":"You are being rate limited.","retry_after":0.05,"global":false}"""));

        (await JsonAsync(await bot.DiscordAsync(Command("compare"))))["type"]!.GetValue<int>().ShouldBe(5);
        turn.Dispose();

        var patches = await bot.Api.WaitForCountAsync(r => r.Method == "PATCH", 2);
        patches[1].Body.ShouldBe(patches[0].Body);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task A_401_or_403_is_never_retried(int status)
    {
        await using var bot = await StartWithOneTurnAsync(server.Address);
        var turn = await TakeTheOnlyTurnAsync(bot);
        bot.Api.RespondOnce(r => r.Method == "PATCH", new FakeResponse(status, """{"message":"no","code":0}"""));

        (await JsonAsync(await bot.DiscordAsync(Command("compare"))))["type"]!.GetValue<int>().ShouldBe(5);
        turn.Dispose();
        await bot.Api.WaitForAsync(r => r.Method == "PATCH");
        (await JsonAsync(await bot.DiscordAsync(Command("help"))))["type"]!.GetValue<int>().ShouldBe(4);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        bot.Api.Requests.Count(r => r.Method == "PATCH").ShouldBe(1);
    }

    [Fact]
    public async Task Register_puts_the_command_tree_once_and_reports_what_changed()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        bot.Api.Commands = [new JsonObject { ["id"] = "9", ["name"] = "old", ["description"] = "gone", ["type"] = 1 }];
        var registrar = bot.Services.GetRequiredService<DiscordCommandRegistrar>();

        var first = await registrar.RegisterAsync("5000000000000000001", TestContext.Current.CancellationToken);
        first.ShouldBe(["created /advisor", "removed /old"]);
        var put = bot.Api.Requests.Single(r => r.Method == "PUT");
        put.Path.ShouldBe("/api/v10/applications/1000000000000000001/guilds/5000000000000000001/commands");
        put.Header("Authorization").ShouldBe("Bot " + BotUnderTest.DiscordBotToken);
        var advisor = JsonNode.Parse(put.Body)!.AsArray().Single()!;
        advisor["options"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()).ShouldBe(["ask", "classify", "buyer", "compare", "strategy", "help"]);

        var second = await registrar.RegisterAsync("5000000000000000001", TestContext.Current.CancellationToken);
        second.ShouldBeEmpty();
        bot.Api.Requests.Count(r => r.Method == "PUT").ShouldBe(1);
        bot.Api.Requests.Count(r => r.Method == "GET").ShouldBe(2);

        // A changed description on Discord's side is put back.
        var drifted = bot.Api.Commands;
        drifted[0]!["description"] = "edited by hand";
        bot.Api.Commands = drifted;
        (await registrar.RegisterAsync(null, TestContext.Current.CancellationToken)).ShouldBe(["updated /advisor"]);
        bot.Api.Requests.Last(r => r.Method == "PUT").Path.ShouldBe("/api/v10/applications/1000000000000000001/commands");
    }
}
