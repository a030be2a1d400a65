using Advisor.Server.Hosting;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Advisor.Server.Tests.Hosting;

/// <summary>
/// What a server started with its defaults logs for one call: its own request line, and not ASP.NET Core's
/// per-request routing lines, which configuration can still turn back on.
/// </summary>
public sealed class RequestLogTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("Information", true)]
    public async Task One_call_logs_the_servers_request_line_and_the_frameworks_lines_only_when_configured(string? aspNetCoreLevel, bool routingLinesExpected)
    {
        var folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));
        var logs = new CapturedLogs();
        string[] args = ["--urls", "http://127.0.0.1:0", "--Storage:Path", Path.Combine(folder, "advisor.db"), "--Logging:LogLevel:Default", "Information"];
        if (aspNetCoreLevel is not null)
        {
            args = [.. args, "--Logging:LogLevel:Microsoft.AspNetCore", aspNetCoreLevel];
        }

        await using var app = AdvisorServerHost.Build(args, builder => builder.Logging.AddProvider(logs));
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var channel = GrpcChannel.ForAddress(app.GetListeningAddress());
            logs.Lines.Clear();
            var answer = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline());
            answer.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

            logs.Lines.ShouldContain(l => l.Category == "Advisor.Server.Api.RequestLoggingInterceptor" && l.Level == LogLevel.Information);
            logs.Lines.Any(l => l.Category.StartsWith("Microsoft.AspNetCore.Routing", StringComparison.Ordinal)).ShouldBe(routingLinesExpected);
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("Information", true)]
    [InlineData("Warning", false)]
    public async Task A_classification_s_request_line_names_its_rule_set_version_when_the_request_log_is_on(string level, bool lineExpected)
    {
        var folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));
        var logs = new CapturedLogs();
        await using var app = AdvisorServerHost.Build(
            ["--urls", "http://127.0.0.1:0", "--Storage:Path", Path.Combine(folder, "advisor.db"), "--Logging:LogLevel:Default", level],
            builder => builder.Logging.AddProvider(logs));
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var channel = GrpcChannel.ForAddress(app.GetListeningAddress());
            logs.Lines.Clear();
            var answer = await new AdvisorService.AdvisorServiceClient(channel).ClassifyBuyerAsync(
                new ClassifyBuyerRequest { Description = "They buy from us once a year when the price is right." }, ServerFixture.Deadline());
            answer.Classification.RuleSetVersion.ShouldNotBeNullOrEmpty();

            var lines = logs.Lines.Where(l => l.Category == "Advisor.Server.Api.RequestLoggingInterceptor").ToList();
            if (lineExpected)
            {
                lines.ShouldContain(l => l.Message.Contains("ClassifyBuyer", StringComparison.Ordinal) && l.Message.Contains($"(rules {answer.Classification.RuleSetVersion})", StringComparison.Ordinal));
            }
            else
            {
                lines.ShouldBeEmpty();
            }
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
