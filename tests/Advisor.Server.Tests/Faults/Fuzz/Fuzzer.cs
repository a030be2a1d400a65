using System.Globalization;
using CsCheck;
using Grpc.Core;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Faults.Fuzz;

/// <summary>
/// Runs generated calls against a real server, several at a time, and fails on any answer a caller could not act
/// on: INTERNAL or UNKNOWN (a bug), DEADLINE_EXCEEDED (the server did not answer in time), UNAVAILABLE or
/// CANCELLED (the server or connection went away), or a stack trace in the message. CsCheck prints the seed and
/// the (shrunk) request of a failure; <c>CsCheck_Seed=&lt;seed&gt;</c> replays it.
/// </summary>
internal static class Fuzzer
{
    /// <summary>Environment variable with the total number of cases over the whole fuzz suite.</summary>
    public const string CasesVariable = "ADVISOR_FUZZ_CASES";

    public const int DefaultCases = 10_000;

    /// <summary>Every call gets this deadline; the server should answer far sooner even on a busy CI machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Calls in flight at once: enough to keep two cores busy and to mix concurrent writes.</summary>
    private const int Concurrency = 8;

    private static readonly StatusCode[] Failures =
        [StatusCode.Internal, StatusCode.Unknown, StatusCode.DeadlineExceeded, StatusCode.Unavailable, StatusCode.Cancelled, StatusCode.DataLoss, StatusCode.Unimplemented];

    public static int TotalCases =>
        int.TryParse(Environment.GetEnvironmentVariable(CasesVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var cases) && cases > 0 ? cases : DefaultCases;

    /// <summary>This test's share (in thousandths) of the suite's cases.</summary>
    public static int Share(int perMille) => (int)Math.Max(1, (long)TotalCases * perMille / 1000);

    /// <summary>Runs <paramref name="perMille"/>/1000 of the cases, then checks the server still reports SERVING.</summary>
    public static async Task RunAsync(Gen<FuzzCall> calls, FuzzServerFixture server, int perMille)
    {
        var cases = Share(perMille);
        var invoker = server.Channel.CreateCallInvoker();
        try
        {
            await calls.SampleAsync(call => AnswerAsync(call, invoker), iter: cases, threads: Concurrency, print: call => call.ToString());
        }
        catch (Exception ex) when (!server.Errors.IsEmpty)
        {
            // Calls run concurrently, so the server's first logged error may belong to another case; it is still the lead.
            throw new ShouldAssertException(ex.Message + Environment.NewLine + "The server logged: " + string.Join(Environment.NewLine, server.Errors.Take(3)), ex);
        }

        TestContext.Current.SendDiagnosticMessage($"{cases} fuzz cases answered without INTERNAL, UNKNOWN or a missed deadline");
        await ShouldBeServingAsync(invoker);
    }

    public static async Task ShouldBeServingAsync(CallInvoker invoker)
    {
        var health = await new Health.HealthClient(invoker).CheckAsync(new HealthCheckRequest(), Options());
        health.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
    }

    private static CallOptions Options() => new(deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken);

    private static async Task AnswerAsync(FuzzCall call, CallInvoker invoker)
    {
        try
        {
            await call.Invoke(invoker, Options());
        }
        catch (RpcException ex)
        {
            if (Failures.Contains(ex.StatusCode))
            {
                throw new ShouldAssertException($"{call.Method} answered {ex.StatusCode} ({ex.Status.Detail}); expected a status a caller can act on");
            }

            if (ex.Status.Detail.Contains("   at ", StringComparison.Ordinal))
            {
                throw new ShouldAssertException($"{call.Method} answered {ex.StatusCode} with a stack trace: {ex.Status.Detail}");
            }
        }
    }
}
