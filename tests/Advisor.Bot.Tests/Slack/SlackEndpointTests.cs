using System.Net;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Tests.Infrastructure;

namespace Advisor.Bot.Tests.Slack;

/// <summary>Signed requests against the real bot and a real advisory server; Slack's API is a fake on loopback.</summary>
public sealed class SlackEndpointTests(AdvisorServerFixture server)
{
    private static bool IsPost(RecordedRequest r) => r.Path == "/api/chat.postMessage";

    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
    }

    private static string Event(string eventId, JsonObject ev) => new JsonObject
    {
        ["type"] = "event_callback",
        ["team_id"] = "T1",
        ["api_app_id"] = "A1",
        ["event_id"] = eventId,
        ["event_time"] = 1_700_000_000,
        ["authorizations"] = new JsonArray(new JsonObject { ["user_id"] = "UBOT", ["is_bot"] = true }),
        ["event"] = ev,
    }.ToJsonString();

    private static JsonObject Dm(string channel, string text, string user = "U111") => new()
    {
        ["type"] = "message",
        ["channel_type"] = "im",
        ["channel"] = channel,
        ["user"] = user,
        ["text"] = text,
        ["ts"] = "1700000000.000100",
    };

    /// <summary>
    /// The answer to a slash command: inline when it was ready within the budget, otherwise from response_url.
    /// Which path is taken depends on machine load, so tests about content accept both; the paths themselves are
    /// pinned by the help test (always inline) and the zero-budget test (always deferred).
    /// </summary>
    private static async Task<JsonObject> SlashAnswerAsync(BotUnderTest bot, string text)
    {
        var responseUrl = bot.ResponseUrl("answer-" + Guid.NewGuid().ToString("N"));
        var json = await JsonAsync(await bot.SlashCommandAsync(text, responseUrl));
        if (json["text"]!.GetValue<string>() != "Thinking about it\u2026")
        {
            return json;
        }

        var path = new Uri(responseUrl).AbsolutePath;
        return (await bot.Api.WaitForAsync(r => r.Path == path)).Json;
    }

    [Fact]
    public async Task Url_verification_echoes_the_challenge()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var json = await JsonAsync(await bot.SlackEventAsync("""{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"""));
        json["challenge"]!.GetValue<string>().ShouldBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    }

    [Theory]
    [InlineData("help")]
    [InlineData("")]
    public async Task Help_answers_in_the_response_privately_with_every_command(string text)
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var json = await JsonAsync(await bot.SlashCommandAsync(text));
        json["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
        var blocks = json["blocks"]!.ToJsonString();
        foreach (var command in new[] { "/advisor classify", "/advisor compare", "/advisor help", "/advisor buyer", "/advisor strategy" })
        {
            blocks.ShouldContain(command);
        }

        json["text"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("is a buyer on a yearly retainer a client?", "Client (")]
    [InlineData("classify a law firm advises this buyer every month under a yearly retainer", "Client (")]
    [InlineData("classify someone who bought a sandwich once and never came back", "Customer (")]
    [InlineData("compare", "Client vs customer")]
    [InlineData("client vs customer?", "Client vs customer")]
    [InlineData("buyer Acme", "Advisor")]
    [InlineData("strategy customer retail", "Strategies for customers in retail")]
    public async Task Every_command_is_answered(string text, string title)
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var json = await SlashAnswerAsync(bot, text);

        json["text"]!.GetValue<string>().ShouldStartWith(title);
        json["response_type"]!.GetValue<string>().ShouldBe("in_channel");
        var blocks = json["blocks"]!.AsArray();
        blocks[0]!["type"]!.GetValue<string>().ShouldBe("header");
        blocks[0]!["text"]!["text"]!.GetValue<string>().ShouldStartWith(title);
        blocks.Count.ShouldBeLessThanOrEqualTo(50);
    }

    [Fact]
    public async Task A_command_not_ready_within_the_budget_is_acknowledged_then_answered_at_response_url()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address, "--Slack:AnswerBudget", "00:00:00");
        var ack = await JsonAsync(await bot.SlashCommandAsync("compare", bot.ResponseUrl("slow")));
        ack["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
        ack["text"]!.GetValue<string>().ShouldContain("Thinking");

        var posted = await bot.Api.WaitForAsync(r => r.Path == "/response/slow");
        posted.Method.ShouldBe("POST");
        posted.Json["replace_original"]!.GetValue<bool>().ShouldBeFalse();
        posted.Json["text"]!.GetValue<string>().ShouldStartWith("Client vs customer");
        posted.Json["response_type"]!.GetValue<string>().ShouldBe("in_channel");
        posted.Json["blocks"]!.AsArray()[0]!["type"]!.GetValue<string>().ShouldBe("header");
        posted.Header("Authorization").ShouldBeEmpty();
    }

    [Fact]
    public async Task A_mention_is_acknowledged_and_answered_in_its_thread_with_chat_postMessage()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var mention = new JsonObject
        {
            ["type"] = "app_mention",
            ["channel"] = "C42",
            ["user"] = "U111",
            ["text"] = "<@UBOT> client vs customer?",
            ["ts"] = "1700000000.000300",
        };
        var response = await bot.SlackEventAsync(Event("Ev-mention", mention));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        var post = await bot.Api.WaitForAsync(IsPost);
        post.Header("Authorization").ShouldBe("Bearer " + BotUnderTest.BotToken);
        post.Json["channel"]!.GetValue<string>().ShouldBe("C42");
        post.Json["thread_ts"]!.GetValue<string>().ShouldBe("1700000000.000300");
        // The mention itself is stripped before the question reaches the advisor.
        post.Json["text"]!.GetValue<string>().ShouldStartWith("Client vs customer");
        post.Json["blocks"]!.AsArray().Count.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task A_direct_message_is_answered_in_the_conversation()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        (await bot.SlackEventAsync(Event("Ev-dm", Dm("D7", "help")))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var post = await bot.Api.WaitForAsync(IsPost);
        post.Json["channel"]!.GetValue<string>().ShouldBe("D7");
        post.Json.ContainsKey("thread_ts").ShouldBeFalse();
        post.Json["blocks"]!.ToJsonString().ShouldContain("/advisor classify");
    }

    [Fact]
    public async Task Never_answers_its_own_or_other_bots_messages()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var own = Dm("DBOT1", "help", user: "UBOT");
        var otherBot = Dm("DBOT2", "help");
        otherBot["bot_id"] = "B999";
        var subtype = Dm("DBOT3", "help");
        subtype["subtype"] = "bot_message";
        var edited = Dm("DBOT4", "help");
        edited["subtype"] = "message_changed";

        var i = 0;
        foreach (var ev in new[] { own, otherBot, subtype, edited })
        {
            (await bot.SlackEventAsync(Event($"Ev-bot-{i++}", ev))).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // A person's message afterwards is answered; by then the bots' would have been too.
        (await bot.SlackEventAsync(Event("Ev-person", Dm("DPERSON", "help")))).StatusCode.ShouldBe(HttpStatusCode.OK);
        await bot.Api.WaitForAsync(r => IsPost(r) && r.Json["channel"]!.GetValue<string>() == "DPERSON");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        bot.Api.Requests.Where(IsPost).Select(r => r.Json["channel"]!.GetValue<string>()).ShouldBe(["DPERSON"]);
    }

    [Fact]
    public async Task A_retried_event_is_acknowledged_but_answered_once()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var body = Event("Ev-retried", Dm("DRETRY", "help"));
        (await bot.SlackEventAsync(body)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackEventAsync(body, retry: 1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackEventAsync(body, retry: 2)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackEventAsync(Event("Ev-after", Dm("DAFTER", "help")))).StatusCode.ShouldBe(HttpStatusCode.OK);

        await bot.Api.WaitForAsync(r => IsPost(r) && r.Json["channel"]!.GetValue<string>() == "DAFTER");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        bot.Api.Requests.Count(r => IsPost(r) && r.Json["channel"]!.GetValue<string>() == "DRETRY").ShouldBe(1);
    }

    public static TheoryData<string> BadSignatures => ["forged", "expired", "future", "missing", "missing timestamp"];

    [Theory]
    [MemberData(nameof(BadSignatures))]
    public async Task Bad_signatures_get_401_and_no_work_on_every_endpoint(string kind)
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        long? timestamp = kind switch
        {
            "expired" => BotUnderTest.Now - 301,
            // Well past the window: a second or two between signing here and checking in the bot brings a
            // timestamp 301 s ahead back inside it (this flaked on a loaded machine).
            "future" => BotUnderTest.Now + 360,
            _ => null,
        };
        var forged = kind == "forged" ? "v0=" + new string('a', 64) : null;

        async Task Send(string path, string body, string type)
        {
            HttpResponseMessage response;
            if (kind == "missing timestamp")
            {
                var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, type) };
                request.Headers.Add("X-Slack-Signature", Advisor.Bot.Slack.SlackSignature.Sign(BotUnderTest.SigningSecret, BotUnderTest.Now.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Text.Encoding.UTF8.GetBytes(body)));
                response = await bot.Http.SendAsync(request, TestContext.Current.CancellationToken);
            }
            else
            {
                response = await bot.SlackAsync(path, body, type, timestamp, forged, unsigned: kind == "missing");
            }

            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        await Send("/slack/events", Event("Ev-forged", Dm("DFORGED", "help")), "application/json");
        await Send("/slack/events", """{"type":"url_verification","challenge":"c"}""", "application/json");
        await Send("/slack/commands", BotUnderTest.Form(("command", "/advisor"), ("text", "compare"), ("response_url", bot.ResponseUrl("forged"))), "application/x-www-form-urlencoded");
        await Send("/slack/interactions", BotUnderTest.Form(("payload", """{"type":"block_actions","response_url":"RESPONSE","actions":[{"value":"ev:x"}]}""".Replace("RESPONSE", bot.ResponseUrl("forged"), StringComparison.Ordinal))), "application/x-www-form-urlencoded");

        // The same event, properly signed afterwards, is answered: the forged copy did not even mark it as seen.
        (await bot.SlackEventAsync(Event("Ev-forged", Dm("DREAL", "help")))).StatusCode.ShouldBe(HttpStatusCode.OK);
        await bot.Api.WaitForAsync(r => IsPost(r) && r.Json["channel"]!.GetValue<string>() == "DREAL");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        bot.Api.Requests.Select(r => r.Path).ShouldBe(["/api/chat.postMessage"]);
    }

    [Fact]
    public async Task Server_down_gives_a_short_unavailable_answer_in_time()
    {
        await using var bot = await BotUnderTest.StartAsync(BotUnderTest.UnusedAddress());
        var json = await JsonAsync(await bot.SlashCommandAsync("is a buyer on a yearly retainer a client?"));
        json["text"]!.GetValue<string>().ShouldContain("unavailable, try again in a minute");
        json["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
        bot.Api.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_429_from_slack_is_retried_after_the_time_it_asks_for()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        bot.Api.RespondOnce(IsPost, new FakeResponse(429, """{"ok":false,"error":"ratelimited"}""", ("Retry-After", "1")));

        (await bot.SlackEventAsync(Event("Ev-429", Dm("D429", "help")))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var posts = await bot.Api.WaitForCountAsync(IsPost, 2);
        posts.Count.ShouldBe(2);
        posts[1].Body.ShouldBe(posts[0].Body);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        bot.Api.Requests.Count(IsPost).ShouldBe(2);
    }

    [Fact]
    public async Task Show_evidence_button_posts_every_piece_of_evidence_to_response_url()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var reply = bot.Remember(new Reply { Title = "Client (80% confidence)", Kind = ReplyKind.Client }, new ReplySubject
        {
            Question = "retainer?",
            Kind = ReplyKind.Client,
            Evidence = ["Retainer: pays a yearly fee [+2.0 client]", "Advice: asks for advice [+1.5 client]", "Price focus [-0.5 customer]", "Fourth signal [+0.1 client]"],
        });

        (await bot.SlackButtonAsync(new ReplyAction(ReplyActionKind.ShowEvidence, reply.Id).Encode(), bot.ResponseUrl("evidence"))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var posted = await bot.Api.WaitForAsync(r => r.Path == "/response/evidence");
        var blocks = posted.Json["blocks"]!.ToJsonString();
        blocks.ShouldContain("Fourth signal");
        blocks.ShouldContain("Price focus");
        posted.Json["replace_original"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task A_button_on_a_forgotten_answer_says_it_expired()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        (await bot.SlackButtonAsync("ev:neverissued", bot.ResponseUrl("old"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var posted = await bot.Api.WaitForAsync(r => r.Path == "/response/old");
        posted.Json["text"]!.GetValue<string>().ShouldContain("expired");
        posted.Json["response_type"]!.GetValue<string>().ShouldBe("ephemeral");
    }

    [Fact]
    public async Task More_button_posts_the_next_page_of_an_answer_longer_than_the_block_limits()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var reply = bot.Remember(SlackRendererTests.Huge() with { Id = "" }, new ReplySubject { Kind = ReplyKind.Client });

        (await bot.SlackButtonAsync(new ReplyAction(ReplyActionKind.More, reply.Id, 1).Encode(), bot.ResponseUrl("more"))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var posted = await bot.Api.WaitForAsync(r => r.Path == "/response/more");
        var blocks = posted.Json["blocks"]!.AsArray();
        blocks.Count.ShouldBeLessThanOrEqualTo(50);
        blocks[0]!["text"]!["text"]!.GetValue<string>().ShouldContain("continued, 2/");
        blocks.ToJsonString().ShouldContain($"mo:{reply.Id}:2");
    }

    [Fact]
    public async Task The_buttons_of_a_real_answer_show_evidence_suggest_strategies_and_record_feedback()
    {
        await using var bot = await BotUnderTest.StartAsync(server.Address);
        var answer = await SlashAnswerAsync(bot, "is a buyer on a yearly retainer a client?");
        var buttons = answer["blocks"]!.AsArray().Last()!["elements"]!.AsArray().Select(b => b!["value"]!.GetValue<string>()).ToList();
        string Button(string prefix) => buttons.First(b => b.StartsWith(prefix, StringComparison.Ordinal));

        (await bot.SlackButtonAsync(Button("ev:"), bot.ResponseUrl("evidence"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackButtonAsync(Button("st:"), bot.ResponseUrl("strategies"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackButtonAsync(Button("wr:"), bot.ResponseUrl("wrong"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bot.SlackButtonAsync(Button("fu:"), bot.ResponseUrl("follow-up"))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var evidence = await bot.Api.WaitForAsync(r => r.Path == "/response/evidence");
        string.Join("\n", SlackRendererTests.Texts(evidence.Json)).ShouldContain("Retainer");
        var strategies = await bot.Api.WaitForAsync(r => r.Path == "/response/strategies");
        strategies.Json["text"]!.GetValue<string>().ShouldStartWith("Strategies for clients");
        var wrong = await bot.Api.WaitForAsync(r => r.Path == "/response/wrong");
        wrong.Json["text"]!.GetValue<string>().ShouldStartWith("Thanks for the feedback");
        wrong.Json["text"]!.GetValue<string>().ShouldContain("you expected customer, not client");
        var followUp = await bot.Api.WaitForAsync(r => r.Path == "/response/follow-up");
        followUp.Json["text"]!.GetValue<string>().ShouldNotContain("expired");
        followUp.Json["response_type"]!.GetValue<string>().ShouldBe("in_channel");
    }
}
