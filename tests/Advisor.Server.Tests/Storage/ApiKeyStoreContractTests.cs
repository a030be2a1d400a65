using Advisor.Server.Security;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Storage;

/// <summary>The API key store's behaviour, written once and run on SQLite and on a real PostgreSQL.</summary>
public abstract class ApiKeyStoreContractTests<TProvider>(TProvider provider)
    where TProvider : StoreProvider
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IApiKeyStore Store => provider.Get<IApiKeyStore>();

    [Fact]
    public async Task Keys_are_stored_read_back_and_names_are_unique_among_keys_not_revoked()
    {
        var name = "contract-" + Guid.NewGuid().ToString("N")[..8];
        var key = Key(name, Role.Writer, DateTimeOffset.UtcNow.AddDays(1));
        (await Store.AddAsync(key, Audit("keys.create", name), Ct)).ShouldBeTrue();
        (await Store.AddAsync(Key(name, Role.Admin, null), Audit("keys.create", name), Ct)).ShouldBeFalse("the name is taken");

        var read = await Store.GetAsync(key.Id, Ct);
        read.ShouldNotBeNull();
        read.Name.ShouldBe(name);
        read.Role.ShouldBe(Role.Writer);
        read.Salt.ShouldBe(key.Salt);
        read.SecretHash.ShouldBe(key.SecretHash);
        read.ExpireTime!.Value.ToUnixTimeMilliseconds().ShouldBe(key.ExpireTime!.Value.ToUnixTimeMilliseconds());
        read.RevokeTime.ShouldBeNull();
        (await Store.GetAsync("k-missing", Ct)).ShouldBeNull();

        var revoked = await Store.RevokeAsync(name, DateTimeOffset.UtcNow, Audit("keys.revoke", name), Ct);
        revoked.ShouldNotBeNull();
        revoked.Id.ShouldBe(key.Id);
        revoked.RevokeTime.ShouldNotBeNull();
        (await Store.RevokeAsync(name, DateTimeOffset.UtcNow, Audit("keys.revoke", name), Ct)).ShouldBeNull("already revoked");
        (await Store.GetAsync(key.Id, Ct))!.IsActive(DateTimeOffset.UtcNow).ShouldBeFalse();

        var replacement = Key(name, Role.Reader, null);
        (await Store.AddAsync(replacement, Audit("keys.create", name), Ct)).ShouldBeTrue("a revoked key's name is free");
        (await Store.RevokeAsync(replacement.Id, DateTimeOffset.UtcNow, Audit("keys.revoke", name), Ct))!.Id.ShouldBe(replacement.Id);

        var audit = await provider.Get<IAuditLog>().ListAsync(100, null, Ct);
        audit.Items.Count(a => a.Target is not null && a.Target.StartsWith(name, StringComparison.Ordinal)).ShouldBe(4, "two creates and two revokes; the refused create wrote nothing");
    }

    [Fact]
    public async Task Concurrent_revokes_of_one_key_revoke_it_once()
    {
        var key = Key("race-" + Guid.NewGuid().ToString("N")[..8], Role.Reader, null);
        await Store.AddAsync(key, Audit("keys.create", key.Name), Ct);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Store.RevokeAsync(key.Id, DateTimeOffset.UtcNow, Audit("keys.revoke", key.Name), Ct)));
        results.Count(r => r is not null).ShouldBe(1);
    }

    [Fact]
    public async Task Any_active_sees_expiry_and_revocation_and_keys_page_newest_first()
    {
        var now = DateTimeOffset.UtcNow;
        var created = new List<ApiKeyRecord>();
        for (var i = 0; i < 5; i++)
        {
            var key = Key("page-" + Guid.NewGuid().ToString("N")[..8], Role.Reader, null) with { CreateTime = now.AddSeconds(i) };
            await Store.AddAsync(key, Audit("keys.create", key.Name), Ct);
            created.Add(key);
        }

        (await Store.AnyActiveAsync(now, Ct)).ShouldBeTrue();
        (await Store.AnyActiveAsync(now.AddYears(1), Ct)).ShouldBeTrue("keys without expiry stay active");

        var seen = new List<ApiKeyRecord>();
        string? token = null;
        do
        {
            var page = await Store.ListAsync(2, token, Ct);
            page.Items.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Items);
            token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
        }
        while (token is not null);

        seen.Select(k => k.Id).ShouldBeUnique();
        seen.Select(k => k.CreateTime).ShouldBeInOrder(SortDirection.Descending);
        seen.Where(k => created.Any(c => c.Id == k.Id)).Select(k => k.Id).ShouldBe(created.Select(c => c.Id).Reverse());
        await Should.ThrowAsync<FormatException>(() => Store.ListAsync(2, "garbage!", Ct));
        foreach (var key in created)
        {
            await Store.RevokeAsync(key.Id, DateTimeOffset.UtcNow, Audit("keys.revoke", key.Name), Ct);
        }
    }

    [Fact]
    public async Task Expired_and_revoked_keys_are_not_active()
    {
        // Every test of this class revokes the keys it creates, and each class has its own database, so the keys here are the only active ones.
        var now = DateTimeOffset.UtcNow;
        var expiring = Key("short-" + Guid.NewGuid().ToString("N")[..8], Role.Admin, now.AddMinutes(1));
        await Store.AddAsync(expiring, Audit("keys.create", expiring.Name), Ct);
        (await Store.AnyActiveAsync(now, Ct)).ShouldBeTrue();
        (await Store.AnyActiveAsync(now.AddMinutes(2), Ct)).ShouldBeFalse("the only key has expired by then");
        await Store.RevokeAsync(expiring.Id, now, Audit("keys.revoke", expiring.Name), Ct);
        (await Store.AnyActiveAsync(now, Ct)).ShouldBeFalse("the only key is revoked");
    }

    private static ApiKeyRecord Key(string name, Role role, DateTimeOffset? expires) =>
        new("k" + Guid.NewGuid().ToString("N")[..16], name, role, "salt-" + name, "hash-" + name, DateTimeOffset.UtcNow, expires, null, "tests");

    private static AuditRecord Audit(string action, string target) =>
        new("a_" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, "tests", action, target, null, null);
}

public sealed class SqliteApiKeyStoreContractTests(SqliteProvider provider)
    : ApiKeyStoreContractTests<SqliteProvider>(provider), IClassFixture<SqliteProvider>;

public sealed class PostgresApiKeyStoreContractTests(PostgresProvider provider)
    : ApiKeyStoreContractTests<PostgresProvider>(provider), IClassFixture<PostgresProvider>;
