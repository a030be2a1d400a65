using Advisor.Bot.Hosting;
using Advisor.Bot.Terminal;
using Advisor.Server.Hosting;
using Advisor.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Advisor.Bot.Tests.Terminal;

/// <summary>The bot against a server that requires API keys: with its reader key it answers; without one it is refused.</summary>
public sealed class BotWithApiKeyTests : IAsyncDisposable
{
    private readonly string _storage = Path.Combine(Path.GetTempPath(), $"advisor-bot-keys-{Guid.NewGuid():N}.db");
    private WebApplication? _server;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(CancellationToken.None);
            await _server.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _storage, _storage + "-wal", _storage + "-shm" })
        {
            File.Delete(file);
        }
    }

    private static async Task<(int Code, string Output)> AskAsync(Uri server, string? key, string question)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = 200;
        string[] args = key is null ? ["--Advisor:ServerAddress", server.ToString()] : ["--Advisor:ServerAddress", server.ToString(), "--Advisor:ApiKey", key];
        using var host = BotHost.BuildConsole(args, builder => builder.Services.AddSingleton(console));
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            return (await host.Services.GetRequiredService<ConsoleChat>().AskOnceAsync(question, TestContext.Current.CancellationToken), output.ToString());
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_bot_answers_with_its_reader_key_and_is_refused_without_one()
    {
        _server = AdvisorServerHost.Build(
            ["--urls", "http://127.0.0.1:0", "--Storage:Path", _storage, "--Security:RequireKeys", "true"],
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await _server.StartAsync(TestContext.Current.CancellationToken);
        var address = _server.GetListeningAddress();
        var key = await _server.Services.GetRequiredService<ApiKeyService>().CreateAsync("bot", Role.Reader, null, "tests", TestContext.Current.CancellationToken);

        var (code, output) = await AskAsync(address, key.Secret, "is a buyer on a yearly retainer a client?");
        code.ShouldBe(0, output);
        output.ShouldContain("Client (");
        output.ShouldContain("Why");

        var (refusedCode, refused) = await AskAsync(address, null, "is a buyer on a yearly retainer a client?");
        refusedCode.ShouldNotBe(0);
        refused.ShouldNotContain("Client (");
        refused.ShouldContain("unavailable");
    }
}
