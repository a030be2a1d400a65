using Advisor.Server.Hosting;
using Advisor.Server.Tests.Storage;
using Advisor.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Security;

/// <summary>
/// Two servers on one PostgreSQL: a key created on one works on the other, and a key revoked on one is refused by
/// the other once its key cache (Security:KeyCacheSeconds, 1 s here) has expired; the revoking server refuses at once.
/// </summary>
public sealed class SharedKeyStoreTests(PostgresInstance postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_revocation_on_one_server_reaches_the_other_within_the_key_cache_time()
    {
        var connectionString = await postgres.CreateDatabaseAsync(Ct);
        string[] settings = ["--urls", "http://127.0.0.1:0", "--Storage:Provider", "postgres", "--Storage:ConnectionString", connectionString,
            "--Security:RequireKeys", "true", "--Security:KeyCacheSeconds", "1", "--Logging:LogLevel:Default", "Warning"];
        await using var first = AdvisorServerHost.Build(settings);
        await using var second = AdvisorServerHost.Build(settings);
        await Task.WhenAll(first.StartAsync(Ct), second.StartAsync(Ct));
        using var firstChannel = GrpcChannel.ForAddress(first.GetListeningAddress());
        using var secondChannel = GrpcChannel.ForAddress(second.GetListeningAddress());

        var admin = await first.Services.GetRequiredService<Server.Security.ApiKeyService>().CreateAsync("admin", Server.Security.Role.Admin, null, "tests", Ct);
        var keys = new V1.ApiKeyService.ApiKeyServiceClient(firstChannel);
        var reader = await keys.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "shared-reader", Role = ApiKeyRole.Reader }, SecuredServerFixture.With(admin.Secret));

        var onFirst = new KnowledgeService.KnowledgeServiceClient(firstChannel);
        var onSecond = new KnowledgeService.KnowledgeServiceClient(secondChannel);
        (await onSecond.ListTopicsAsync(new ListTopicsRequest(), SecuredServerFixture.With(reader.Secret))).Topics.ShouldNotBeEmpty();
        (await onFirst.ListTopicsAsync(new ListTopicsRequest(), SecuredServerFixture.With(reader.Secret))).Topics.ShouldNotBeEmpty();

        await keys.RevokeApiKeyAsync(new RevokeApiKeyRequest { Key = "shared-reader" }, SecuredServerFixture.With(admin.Secret));
        var atOnce = await Should.ThrowAsync<RpcException>(() => onFirst.ListTopicsAsync(new ListTopicsRequest(), SecuredServerFixture.With(reader.Secret)).ResponseAsync);
        atOnce.StatusCode.ShouldBe(StatusCode.Unauthenticated);

        // The other server may still trust its cached entry for up to a second; after that it must refuse.
        var revokedAt = DateTimeOffset.UtcNow;
        while (DateTimeOffset.UtcNow < revokedAt.AddSeconds(1.5))
        {
            await Task.Delay(100, Ct);
        }

        var later = await Should.ThrowAsync<RpcException>(() => onSecond.ListTopicsAsync(new ListTopicsRequest(), SecuredServerFixture.With(reader.Secret)).ResponseAsync);
        later.StatusCode.ShouldBe(StatusCode.Unauthenticated);
        await Task.WhenAll(first.StopAsync(Ct), second.StopAsync(Ct));
    }
}
