using Advisor.Bot.AdvisorClient;
using Advisor.Bot.Hosting;
using Advisor.Bot.Terminal;
using Advisor.Bot.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace Advisor.Bot.Tests.Terminal;

public sealed class ConsoleChatTests(AdvisorServerFixture server)
{
    private static (IAnsiConsole Console, StringWriter Output) Capture()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        return (console, output);
    }

    private static async Task<(int Code, string Output)> RunAsync(string[] args, Func<ConsoleChat, Task<int>> run)
    {
        var (console, output) = Capture();
        using var host = BotHost.BuildConsole(args, builder => builder.Services.AddSingleton(console));
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            return (await run(host.Services.GetRequiredService<ConsoleChat>()), output.ToString());
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Ask_prints_kind_confidence_evidence_strategies_and_follow_ups()
    {
        var (code, output) = await RunAsync(
            ["--Advisor:ServerAddress", server.Address.ToString()],
            chat => chat.AskOnceAsync("is a buyer on a yearly retainer a client?", TestContext.Current.CancellationToken));

        code.ShouldBe(0);
        output.ShouldContain("Client (");
        output.ShouldContain("confidence");
        output.ShouldContain("Why");
        output.ShouldContain("Retainer");
        output.ShouldContain("Strategies");
        output.ShouldContain("You could ask next");
    }

    [Fact]
    public async Task Ask_with_the_server_down_says_unavailable_and_exits_2()
    {
        var (code, output) = await RunAsync(
            ["--Advisor:ServerAddress", BotUnderTest.UnusedAddress().ToString()],
            chat => chat.AskOnceAsync("client vs customer?", TestContext.Current.CancellationToken));

        code.ShouldBe(2);
        output.ShouldContain("The advisor is unavailable, try again in a minute.");
    }

    [Fact]
    public async Task Chat_answers_each_line_and_acts_on_the_last_answer()
    {
        var input = new StringReader("help\nis a buyer on a yearly retainer a client?\nevidence\nwrong customer\nexit\nstrategy hybrid law\n");
        var (code, output) = await RunAsync(
            ["--Advisor:ServerAddress", server.Address.ToString()],
            chat => chat.ChatAsync(input, TestContext.Current.CancellationToken));

        code.ShouldBe(0);
        output.ShouldContain("classify <description>");
        output.ShouldContain("Evidence: Client (");
        output.ShouldContain("Thanks for the feedback");
        // Nothing after "exit" is answered.
        output.ShouldNotContain("Strategies for hybrid buyers");
    }

    [Fact]
    public async Task Without_a_server_address_the_advisory_service_runs_in_process_on_loopback()
    {
        var storage = Path.Combine(Path.GetTempPath(), $"advisor-bot-inproc-{Guid.NewGuid():N}.db");
        try
        {
            var (console, output) = Capture();
            using var host = BotHost.BuildConsole(["--Storage:Path", storage], builder => builder.Services.AddSingleton(console));
            await host.StartAsync(TestContext.Current.CancellationToken);
            var address = host.Services.GetRequiredService<AdvisorEndpoint>().Address;
            address.IsLoopback.ShouldBeTrue();
            address.Port.ShouldNotBe(0);

            var code = await host.Services.GetRequiredService<ConsoleChat>().AskOnceAsync("client vs customer?", TestContext.Current.CancellationToken);
            await host.StopAsync(CancellationToken.None);

            code.ShouldBe(0);
            output.ToString().ShouldContain("Client vs customer");
        }
        finally
        {
            foreach (var file in new[] { storage, storage + "-wal", storage + "-shm" })
            {
                File.Delete(file);
            }
        }
    }
}
