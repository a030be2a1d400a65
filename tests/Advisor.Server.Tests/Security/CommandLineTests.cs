using System.CommandLine;
using Advisor.Server.Cli;
using Advisor.Server.Hosting;
using Advisor.Server.Security;
using Advisor.Server.Tests.Rules;
using Advisor.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Security;

/// <summary>
/// The <c>rules</c> and <c>keys</c> commands as people run them (same parser, same exit codes), against a real
/// SQLite file, and the safe default: a server with no keys will not listen beyond loopback.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));

    public CommandLineTests() => Directory.CreateDirectory(_directory);

    private string DatabasePath => Path.Combine(_directory, "advisor.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ServerCommandLine.Create().Parse([.. args, "--Storage:Path", DatabasePath])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Rules_validate_backtest_and_publish_a_file_with_a_readable_diff_and_exit_codes()
    {
        var broken = Write("broken.yaml", RuleSources.WithRule(RuleSources.WithVersion("broken"), "- { id: x, signal: nope, weight: 1, explanation: \"x\" }"));
        var invalid = await RunAsync("rules", "validate", broken);
        invalid.Code.ShouldBe(ToolCommands.RulesExitCodes.Invalid);
        invalid.Output.ShouldContain("rules[0].signal: unknown signal 'nope'");
        invalid.Output.ShouldMatch(@"broken\.yaml:\d+: rules\[0\]\.signal");
        (await RunAsync("rules", "publish", broken)).Code.ShouldBe(ToolCommands.RulesExitCodes.Invalid);

        var version = RuleSources.NewVersion("cli");
        var flipped = Write("flipped.yaml", RuleSources.RetainerFlipped(version));
        var valid = await RunAsync("rules", "validate", flipped);
        valid.Code.ShouldBe(0, valid.Error);
        valid.Output.ShouldContain("is valid");

        var backtest = await RunAsync("rules", "backtest", flipped);
        backtest.Code.ShouldBe(0, backtest.Error);
        backtest.Output.ShouldContain($"Backtest of {version}");
        backtest.Output.ShouldContain("~ rules.agreement.retainer");
        backtest.Output.ShouldContain("live:  retainer +3.0");
        backtest.Output.ShouldContain("draft: retainer -3.0");
        backtest.Output.ShouldMatch(@"Cases that change kind: [1-9]");
        backtest.Output.ShouldContain("why:   agreement.retainer");

        var published = await RunAsync("rules", "publish", flipped);
        published.Code.ShouldBe(0, published.Error);
        published.Output.ShouldContain($"Published {version} (was {RuleSources.ShippedVersion})");
        var again = await RunAsync("rules", "publish", flipped);
        again.Code.ShouldBe(ToolCommands.RulesExitCodes.Conflict);
        again.Error.ShouldContain("already live");

        (await RunAsync("rules", "validate", Path.Combine(_directory, "missing.yaml"))).Code.ShouldBe(ToolCommands.RulesExitCodes.CannotRun);

        // A server on the same database starts on the published version.
        await using var app = AdvisorServerHost.Build(["--urls", "http://127.0.0.1:0", "--Storage:Path", DatabasePath, "--Logging:LogLevel:Default", "Warning"]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var channel = GrpcChannel.ForAddress(app.GetListeningAddress());
        var answer = await new AdvisorService.AdvisorServiceClient(channel).ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        answer.Classification.RuleSetVersion.ShouldBe(version);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Keys_are_printed_once_listed_without_secrets_and_revoked()
    {
        var created = await RunAsync("keys", "create", "--name", "ops", "--role", "admin", "--expires", "30d");
        created.Code.ShouldBe(0, created.Error);
        var key = created.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        key.ShouldStartWith(Server.Security.ApiKeyService.Prefix);

        var list = await RunAsync("keys", "list");
        list.Code.ShouldBe(0);
        list.Output.ShouldContain("ops");
        list.Output.ShouldContain("admin");
        list.Output.ShouldContain("active");
        list.Output.ShouldNotContain(key[(key.IndexOf('_', 4) + 1)..]);

        (await RunAsync("keys", "create", "--name", "ops", "--role", "reader")).Code.ShouldBe(ToolCommands.KeysExitCodes.NotDone);
        (await RunAsync("keys", "create", "--name", "x", "--role", "root")).Code.ShouldNotBe(0);
        (await RunAsync("keys", "create", "--name", "x", "--role", "reader", "--expires", "soon")).Code.ShouldBe(ToolCommands.KeysExitCodes.CannotRun);

        var revoked = await RunAsync("keys", "revoke", "ops");
        revoked.Code.ShouldBe(0, revoked.Error);
        (await RunAsync("keys", "list")).Output.ShouldContain("revoked");
        (await RunAsync("keys", "revoke", "ops")).Code.ShouldBe(ToolCommands.KeysExitCodes.NotDone);
    }

    [Fact]
    public async Task Without_keys_the_server_refuses_a_network_address_and_says_how_to_create_one()
    {
        await using (var open = AdvisorServerHost.Build(["--urls", "http://0.0.0.0:0", "--Storage:Path", DatabasePath, "--Logging:LogLevel:Default", "Warning"]))
        {
            var ex = await Should.ThrowAsync<SecurityStartupException>(() => open.StartAsync(TestContext.Current.CancellationToken));
            ex.Message.ShouldContain("keys create --name");
            ex.Message.ShouldContain("0.0.0.0");
        }

        var created = await RunAsync("keys", "create", "--name", "bot", "--role", "reader");
        var key = created.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();

        await using var app = AdvisorServerHost.Build(["--urls", "http://0.0.0.0:0", "--Storage:Path", DatabasePath, "--Logging:LogLevel:Default", "Warning"]);
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var channel = GrpcChannel.ForAddress(app.GetListeningAddress());
        var client = new KnowledgeService.KnowledgeServiceClient(channel);
        var refused = await Should.ThrowAsync<RpcException>(() => client.ListTopicsAsync(new ListTopicsRequest(), deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
        refused.StatusCode.ShouldBe(StatusCode.Unauthenticated);
        var topics = await client.ListTopicsAsync(new ListTopicsRequest(), new Metadata { { "authorization", "Bearer " + key } }, DateTime.UtcNow.AddSeconds(30), TestContext.Current.CancellationToken);
        topics.Topics.ShouldNotBeEmpty();
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("https://[::1]:5443", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://advisor.internal:5080", false)]
    [InlineData("http://10.0.0.5:5080", false)]
    public void Loopback_addresses_are_told_apart_from_network_ones(string url, bool loopback) =>
        SecurityStartupCheck.IsLoopback(url).ShouldBe(loopback);
}
