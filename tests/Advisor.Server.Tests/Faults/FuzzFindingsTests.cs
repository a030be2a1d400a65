using Advisor.Server.Storage;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Faults;

/// <summary>
/// Regression tests for what the RPC fuzzer (Faults/Fuzz) found: each was an INTERNAL, UNKNOWN, a broken connection,
/// a missed deadline or a way to end the process, and is now an answer the caller can act on.
/// </summary>
public sealed class FuzzFindingsTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Fact]
    public async Task A_page_token_past_the_last_rule_set_gives_an_empty_page()
    {
        // SQLite reported the cast rule_count column of an empty result as a BLOB, which Dapper could not map.
        var token = PageToken.Encode("0001-01-01T00:00:00.0000000Z", "a");
        var page = await server.Rules.ListRuleSetVersionsAsync(new ListRuleSetVersionsRequest { PageToken = token }, ServerFixture.Deadline());
        page.RuleSets.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_page_token_with_a_number_too_large_is_an_invalid_argument()
    {
        // long.Parse threw OverflowException (INTERNAL) where garbage gave FormatException (INVALID_ARGUMENT).
        var buyers = new BuyerService.BuyerServiceClient(server.Channel);
        var buyer = await buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = new Buyer { DisplayName = "Paged Buyer" } }, ServerFixture.Deadline());
        var ex = await Should.ThrowAsync<RpcException>(() => buyers.ListClassificationChangesAsync(
            new ListClassificationChangesRequest { BuyerId = buyer.Id, PageToken = PageToken.Encode("99999999999999999999") }, ServerFixture.Deadline()).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        var interactions = await Should.ThrowAsync<RpcException>(() => buyers.ListInteractionsAsync(
            new ListInteractionsRequest { BuyerId = buyer.Id, PageToken = PageToken.Encode("2026-01-01T00:00:00.0000000Z", "99999999999999999999") }, ServerFixture.Deadline()).ResponseAsync);
        interactions.StatusCode.ShouldBe(StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Times_a_timestamp_cannot_hold_are_invalid_arguments()
    {
        var beyond = new Timestamp { Seconds = 253_402_300_800 };
        var buyers = new BuyerService.BuyerServiceClient(server.Channel);
        var buyer = await buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = new Buyer { DisplayName = "Time Traveller" } }, ServerFixture.Deadline());

        var record = await Should.ThrowAsync<RpcException>(() => buyers.RecordInteractionAsync(
            new RecordInteractionRequest { BuyerId = buyer.Id, Interaction = new Interaction { Type = InteractionType.Purchase, OccurredAt = beyond } },
            ServerFixture.Deadline()).ResponseAsync);
        record.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        record.Status.Detail.ShouldContain("occurred_at");

        var key = await Should.ThrowAsync<RpcException>(() => new ApiKeyService.ApiKeyServiceClient(server.Channel).CreateApiKeyAsync(
            new CreateApiKeyRequest { Name = "late", Role = ApiKeyRole.Reader, ExpireTime = new Timestamp { Seconds = 4_000_000_000, Nanos = -1 } },
            ServerFixture.Deadline()).ResponseAsync);
        key.ShouldBeInvalidArgument("expire_time");

        using var import = buyers.ImportInteractions(ServerFixture.Deadline());
        await import.RequestStream.WriteAsync(new ImportInteractionsRequest { Interaction = new Interaction { BuyerId = buyer.Id, Type = InteractionType.Purchase, OccurredAt = beyond } }, TestContext.Current.CancellationToken);
        await import.RequestStream.CompleteAsync();
        var imported = await import.ResponseAsync;
        imported.Rejected.ShouldBe(1);
        imported.Rejections.Single().Field.ShouldContain("occurred_at");
    }

    [Fact]
    public async Task Thousands_of_violations_get_an_answer_that_fits_in_the_trailers()
    {
        // Every unknown mask path was listed, quoted, in both the message and the details: past 64 KB of trailers the
        // client dropped the whole connection (HPACK error), failing every other call on it too.
        var mask = new FieldMask();
        mask.Paths.AddRange(Enumerable.Range(0, 3000).Select(i => $"no_such_field_{i}_" + new string('x', 100)));
        var ex = await Should.ThrowAsync<RpcException>(() => new BuyerService.BuyerServiceClient(server.Channel).UpdateBuyerAsync(
            new UpdateBuyerRequest { Buyer = new Buyer { Id = "b_0190a0a0a0a0a0a0a0a0a0a0a0a0a0a0" }, UpdateMask = mask }, ServerFixture.Deadline()).ResponseAsync);

        var badRequest = ex.ShouldBeInvalidArgument("update_mask");
        badRequest.FieldViolations.Count.ShouldBeLessThanOrEqualTo(50);
        ex.Status.Detail.Length.ShouldBeLessThanOrEqualTo(2001);
        ex.Status.Detail.ShouldStartWith("3000 problems, the first 50 listed.");
        (await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
    }

    [Theory]
    [InlineData("advisor.v1.AdvisorService", "Ask")]
    [InlineData("advisor.v1.BuyerService", "GetBuyer")]
    [InlineData("grpc.health.v1.Health", "Check")]
    public async Task Bytes_that_are_not_a_protobuf_message_are_an_invalid_argument(string service, string method)
    {
        // Field 1 (a string) holding 0xC0 0x80, which is not UTF-8: the framework answered UNKNOWN "Exception was thrown by handler".
        var ex = await Should.ThrowAsync<RpcException>(() => server.Channel.CreateCallInvoker().AsyncUnaryCall(
            new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes), null, ServerFixture.Deadline(), [0x0A, 0x02, 0xC0, 0x80]).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        ex.Status.Detail.ShouldContain("not a valid protobuf message");
    }

    [Fact]
    public async Task A_malformed_message_in_an_import_stream_is_an_invalid_argument()
    {
        using var call = server.Channel.CreateCallInvoker().AsyncClientStreamingCall(
            new Method<byte[], byte[]>(MethodType.ClientStreaming, "advisor.v1.BuyerService", "ImportInteractions", Bytes, Bytes), null, ServerFixture.Deadline());
        await call.RequestStream.WriteAsync([0x0A, 0x7F, 0x0A], TestContext.Current.CancellationToken);
        await call.RequestStream.CompleteAsync();
        (await Should.ThrowAsync<RpcException>(() => call.ResponseAsync)).StatusCode.ShouldBe(StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Empty_yaml_values_are_problems_not_errors()
    {
        // A bare "patterns:" or "label:" left a null where the compiler expected a value: a NullReferenceException.
        var response = await server.Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = "version: x\nsignals:\n  - id: a\n    label:\n    patterns:\n  -\n" }, ServerFixture.Deadline());
        response.Valid.ShouldBeFalse();
        response.Problems.Select(p => p.Location).ShouldContain("signals[0].label");
        response.Problems.Select(p => p.Location).ShouldContain("signals[1]");
        response.Problems.ShouldAllBe(p => p.Message.Length > 0);
    }

    [Fact]
    public async Task Yaml_the_parser_chokes_on_is_a_problem_not_an_error()
    {
        // An unclosed flow sequence with a line separator (U+2028) in it: YamlDotNet's scanner throws a bare
        // InvalidOperationException instead of a YamlException.
        var source = "version: x\ndescription: \"d\"\n\n[\n\uFFFD[\uFFFD\u2028\U0001F600\"\u202B\u200D!!\nthresholds:\n  min_evidence: 2.0\n";
        var response = await server.Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = source }, ServerFixture.Deadline());
        response.Valid.ShouldBeFalse();
    }

    [Fact]
    public async Task Yaml_nested_past_the_limit_is_a_problem_not_a_stack_overflow()
    {
        // 200,000 levels: the recursive YAML loaders would overflow the stack and end the server process.
        var deep = new string('[', 200_000) + new string(']', 200_000);
        var response = await server.Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = deep }, ServerFixture.Deadline(30));
        response.Valid.ShouldBeFalse();
        response.Problems.ShouldContain(p => p.Message.Contains("nested deeper than", StringComparison.Ordinal));
        (await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
    }

    [Fact]
    public async Task Yaml_aliases_are_read_once_not_once_per_reference()
    {
        // Twelve levels of nine references each: walking every reference is 9^12 visits, so without the fix this call
        // misses its deadline (and keeps a core busy long after).
        var source = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + string.Concat(Enumerable.Range(1, 12).Select(l => $"l{l}: &l{l} [{string.Join(",", Enumerable.Repeat(l == 1 ? "*a" : $"*l{l - 1}", 9))}]\n"));
        var response = await server.Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = source }, ServerFixture.Deadline(30));
        response.Valid.ShouldBeFalse();
    }
}
