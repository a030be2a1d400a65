using Advisor.Server.Security;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Security;

/// <summary>Every role against every kind of call, on a real server that requires keys, through the generated clients.</summary>
public sealed class AccessControlTests(SecuredServerFixture server) : IClassFixture<SecuredServerFixture>
{
    private static readonly string[] ReaderCalls = ["ask", "topics", "feedback", "list-buyers"];
    private static readonly string[] WriterCalls = ["create-buyer"];
    private static readonly string[] AdminCalls = ["rules", "audit", "keys", "list-feedback"];

    private string KeyFor(string role) => role switch
    {
        "reader" => server.ReaderKey,
        "writer" => server.WriterKey,
        _ => server.AdminKey,
    };

    /// <summary>One call of each kind; returns the status it ended with.</summary>
    private async Task<StatusCode> CallAsync(string call, string? key)
    {
        var options = SecuredServerFixture.With(key);
        try
        {
            switch (call)
            {
                case "ask":
                    await server.Advisor.AskAsync(new AskRequest { Question = "client vs customer?" }, options);
                    break;
                case "topics":
                    await server.Knowledge.ListTopicsAsync(new ListTopicsRequest(), options);
                    break;
                case "feedback":
                    await server.Advisor.SubmitFeedbackAsync(new SubmitFeedbackRequest { RequestId = Guid.NewGuid().ToString(), ExpectedKind = BuyerKind.Client, Comment = "ok" }, options);
                    break;
                case "list-buyers":
                    await new BuyerService.BuyerServiceClient(server.Channel).ListBuyersAsync(new ListBuyersRequest(), options);
                    break;
                case "create-buyer":
                    await new BuyerService.BuyerServiceClient(server.Channel).CreateBuyerAsync(new CreateBuyerRequest { Buyer = new Buyer { DisplayName = "Acme " + Guid.NewGuid().ToString("N")[..6] } }, options);
                    break;
                case "rules":
                    await server.Rules.GetRuleSetAsync(new GetRuleSetRequest(), options);
                    break;
                case "audit":
                    await server.Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest(), options);
                    break;
                case "keys":
                    await new V1.ApiKeyService.ApiKeyServiceClient(server.Channel).ListApiKeysAsync(new ListApiKeysRequest(), options);
                    break;
                case "list-feedback":
                    await server.Advisor.ListFeedbackAsync(new ListFeedbackRequest(), options);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(call));
            }

            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            ex.Status.Detail.ShouldNotContain("   at ");
            return ex.StatusCode;
        }
    }

    [Fact]
    public async Task Each_role_may_make_exactly_the_calls_of_its_role()
    {
        foreach (var role in new[] { "reader", "writer", "admin" })
        {
            foreach (var call in ReaderCalls)
            {
                (await CallAsync(call, KeyFor(role))).ShouldBe(StatusCode.OK, $"{role} → {call}");
            }

            foreach (var call in WriterCalls)
            {
                (await CallAsync(call, KeyFor(role))).ShouldBe(role == "reader" ? StatusCode.PermissionDenied : StatusCode.OK, $"{role} → {call}");
            }

            foreach (var call in AdminCalls)
            {
                (await CallAsync(call, KeyFor(role))).ShouldBe(role == "admin" ? StatusCode.OK : StatusCode.PermissionDenied, $"{role} → {call}");
            }
        }
    }

    [Fact]
    public async Task Missing_malformed_and_unknown_keys_are_unauthenticated_for_every_call()
    {
        var unknown = "adv_k0000000000000000_" + new string('A', 43);
        var wrongSecret = server.ReaderKey[..^4] + "AAAA";
        foreach (var call in ReaderCalls.Concat(WriterCalls).Concat(AdminCalls))
        {
            foreach (var key in new[] { null, "", "not-a-key", unknown, wrongSecret })
            {
                (await CallAsync(call, key)).ShouldBe(StatusCode.Unauthenticated, $"{call} with '{key}'");
            }
        }

        var basic = new Metadata { { "authorization", "Basic " + server.AdminKey } };
        var ex = await Should.ThrowAsync<RpcException>(() => server.Knowledge.ListTopicsAsync(new ListTopicsRequest(), new CallOptions(basic, DateTime.UtcNow.AddSeconds(30))).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task Refusals_do_not_reveal_whether_the_named_thing_exists()
    {
        var missing = await Should.ThrowAsync<RpcException>(() => server.Rules.GetRuleSetAsync(new GetRuleSetRequest { Version = "no-such-version" }, SecuredServerFixture.With(server.ReaderKey)).ResponseAsync);
        var existing = await Should.ThrowAsync<RpcException>(() => server.Rules.GetRuleSetAsync(new GetRuleSetRequest { Version = "2026.11.1" }, SecuredServerFixture.With(server.ReaderKey)).ResponseAsync);
        missing.StatusCode.ShouldBe(StatusCode.PermissionDenied);
        existing.StatusCode.ShouldBe(StatusCode.PermissionDenied);
        missing.Status.Detail.ShouldBe(existing.Status.Detail);

        var noTopic = await Should.ThrowAsync<RpcException>(() => server.Knowledge.GetTopicAsync(new GetTopicRequest { Name = "topics/no-such-topic" }, SecuredServerFixture.With(null)).ResponseAsync);
        noTopic.StatusCode.ShouldBe(StatusCode.Unauthenticated);
        var asAdmin = await Should.ThrowAsync<RpcException>(() => server.Knowledge.GetTopicAsync(new GetTopicRequest { Name = "topics/no-such-topic" }, SecuredServerFixture.With(server.AdminKey)).ResponseAsync);
        asAdmin.StatusCode.ShouldBe(StatusCode.NotFound);
    }

    [Fact]
    public async Task Health_and_reflection_stay_open()
    {
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), SecuredServerFixture.With(null));
        health.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo(SecuredServerFixture.With(null));
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" }, TestContext.Current.CancellationToken);
        await call.RequestStream.CompleteAsync();
        (await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken)).ShouldBeTrue();
        call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ShouldContain("advisor.v1.RulesService");
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once_and_the_audit_log_records_key_changes()
    {
        var keys = new V1.ApiKeyService.ApiKeyServiceClient(server.Channel);
        var name = "temp-" + Guid.NewGuid().ToString("N")[..6];
        var created = await keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = name, Role = ApiKeyRole.Reader }, SecuredServerFixture.With(server.AdminKey));
        created.Secret.ShouldStartWith("adv_" + created.ApiKey.Id + "_");
        (await CallAsync("ask", created.Secret)).ShouldBe(StatusCode.OK);

        var taken = await Should.ThrowAsync<RpcException>(() => keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = name, Role = ApiKeyRole.Admin }, SecuredServerFixture.With(server.AdminKey)).ResponseAsync);
        taken.StatusCode.ShouldBe(StatusCode.AlreadyExists);

        var listed = await keys.ListApiKeysAsync(new ListApiKeysRequest { PageSize = 200 }, SecuredServerFixture.With(server.AdminKey));
        listed.ApiKeys.ShouldContain(k => k.Id == created.ApiKey.Id && k.Name == name && k.Role == ApiKeyRole.Reader && k.RevokeTime == null);
        listed.ToString().ShouldNotContain(created.Secret[^43..]);

        var revoked = await keys.RevokeApiKeyAsync(new RevokeApiKeyRequest { Key = name }, SecuredServerFixture.With(server.AdminKey));
        revoked.RevokeTime.ShouldNotBeNull();
        (await CallAsync("ask", created.Secret)).ShouldBe(StatusCode.Unauthenticated);
        var again = await Should.ThrowAsync<RpcException>(() => keys.RevokeApiKeyAsync(new RevokeApiKeyRequest { Key = name }, SecuredServerFixture.With(server.AdminKey)).ResponseAsync);
        again.StatusCode.ShouldBe(StatusCode.NotFound);

        // The name is free again once its key is revoked.
        await keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = name, Role = ApiKeyRole.Reader }, SecuredServerFixture.With(server.AdminKey));

        var audit = await server.Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1000 }, SecuredServerFixture.With(server.AdminKey));
        audit.Entries.ShouldContain(e => e.Action == "keys.create" && e.Target.StartsWith(name, StringComparison.Ordinal) && e.Actor.StartsWith("admin-", StringComparison.Ordinal));
        audit.Entries.ShouldContain(e => e.Action == "keys.revoke" && e.Target == $"{name} ({created.ApiKey.Id})");

        var invalid = await Should.ThrowAsync<RpcException>(() => keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "has space", Role = ApiKeyRole.Unspecified }, SecuredServerFixture.With(server.AdminKey)).ResponseAsync);
        var violations = invalid.ShouldBeInvalidArgument("role").FieldViolations.Select(v => v.Field);
        violations.ShouldContain("name");
    }

    [Fact]
    public async Task An_expired_key_is_unauthenticated()
    {
        var expires = DateTimeOffset.UtcNow.AddSeconds(2);
        var created = await server.Keys.CreateAsync("expiring-" + Guid.NewGuid().ToString("N")[..6], Role.Admin, expires, "tests", TestContext.Current.CancellationToken);
        (await CallAsync("rules", created.Secret)).ShouldBe(StatusCode.OK);
        while (DateTimeOffset.UtcNow <= expires)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        (await CallAsync("rules", created.Secret)).ShouldBe(StatusCode.Unauthenticated);
        (await CallAsync("ask", created.Secret)).ShouldBe(StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task Rule_changes_are_audited_under_the_key_name()
    {
        var live = await server.Rules.GetRuleSetAsync(new GetRuleSetRequest(), SecuredServerFixture.With(server.AdminKey));
        var version = Rules.RuleSources.NewVersion("keyed");
        await server.Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = Rules.RuleSources.WithVersion(version) }, SecuredServerFixture.With(server.AdminKey, 60));
        await server.Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = version, Etag = live.Etag }, SecuredServerFixture.With(server.AdminKey, 60));
        var audit = await server.Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest(), SecuredServerFixture.With(server.AdminKey));
        var publish = audit.Entries.First(e => e.Action == "rules.publish" && e.Target == version);
        publish.Actor.ShouldStartWith("admin-");
        publish.FromVersion.ShouldBe(live.Version);
    }

    [Fact]
    public async Task No_secret_reaches_the_logs()
    {
        var keys = new V1.ApiKeyService.ApiKeyServiceClient(server.Channel);
        var created = await keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "logged-" + Guid.NewGuid().ToString("N")[..6], Role = ApiKeyRole.Reader }, SecuredServerFixture.With(server.AdminKey));
        await CallAsync("ask", created.Secret);
        await CallAsync("rules", created.Secret);
        await CallAsync("ask", created.Secret[..^2] + "zz");
        await CallAsync("ask", server.AdminKey);

        server.Logs.ShouldNotBeEmpty();
        var secrets = new[] { created.Secret, server.AdminKey, server.ReaderKey, server.WriterKey };
        foreach (var line in server.Logs)
        {
            foreach (var secret in secrets)
            {
                // The secret part (after the public id) must appear nowhere, whole or as its first half.
                var secretPart = secret[(secret.IndexOf('_', 4) + 1)..];
                line.ShouldNotContain(secretPart[..20], Case.Sensitive);
            }
        }
    }

    [Fact]
    public void The_policy_table_names_every_method_of_the_contract()
    {
        var files = new[] { AdvisorReflection.Descriptor, KnowledgeReflection.Descriptor, RulesReflection.Descriptor, KeysReflection.Descriptor, BuyersReflection.Descriptor };
        var methods = files.SelectMany(f => f.Services).SelectMany(s => s.Methods).Select(m => $"/{m.Service.FullName}/{m.Name}").ToList();
        methods.Count.ShouldBeGreaterThan(20);
        methods.Where(m => !MethodPolicy.Names(m)).ShouldBeEmpty();
        MethodPolicy.Required("/advisor.v1.SomethingNew/Call").ShouldBe(Role.Admin);
        MethodPolicy.IsOpen("/grpc.health.v1.Health/Check").ShouldBeTrue();
    }
}

/// <summary>Per-key rate limits: RESOURCE_EXHAUSTED with a retry hint, and one key's use never limits another's.</summary>
public sealed class RateLimitTests(RateLimitedServerFixture server) : IClassFixture<RateLimitedServerFixture>
{
    [Fact]
    public async Task A_key_over_its_limit_gets_resource_exhausted_with_a_retry_delay_and_other_keys_are_unaffected()
    {
        var request = new ListTopicsRequest();
        await server.Knowledge.ListTopicsAsync(request, SecuredServerFixture.With(server.ReaderKey));
        await server.Knowledge.ListTopicsAsync(request, SecuredServerFixture.With(server.ReaderKey));
        var ex = await Should.ThrowAsync<RpcException>(() => server.Knowledge.ListTopicsAsync(request, SecuredServerFixture.With(server.ReaderKey)).ResponseAsync);

        ex.StatusCode.ShouldBe(StatusCode.ResourceExhausted);
        var retry = ex.GetRpcStatus()!.GetDetail<RetryInfo>();
        retry.ShouldNotBeNull();
        retry.RetryDelay.ToTimeSpan().ShouldBeGreaterThan(TimeSpan.Zero);
        retry.RetryDelay.ToTimeSpan().ShouldBeLessThanOrEqualTo(TimeSpan.FromSeconds(10));

        await server.Knowledge.ListTopicsAsync(request, SecuredServerFixture.With(server.WriterKey));
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), SecuredServerFixture.With(null));
        health.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
    }
}
