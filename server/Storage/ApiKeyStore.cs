using Advisor.Server.Security;

namespace Advisor.Server.Storage;

/// <summary>
/// A stored API key. Only a salted hash of the secret is kept; the secret itself is shown once at creation
/// and exists nowhere else.
/// </summary>
public sealed record ApiKeyRecord(
    string Id,
    string Name,
    Role Role,
    string Salt,
    string SecretHash,
    DateTimeOffset CreateTime,
    DateTimeOffset? ExpireTime,
    DateTimeOffset? RevokeTime,
    string CreatedBy)
{
    /// <summary>Usable now: not revoked and not expired.</summary>
    public bool IsActive(DateTimeOffset now) => RevokeTime is null && (ExpireTime is null || ExpireTime > now);
}

/// <summary>API keys, shared by every server on the same store. Each write records its audit entry in the same transaction.</summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key; false (nothing written) when a key that is not revoked already has the name.</summary>
    Task<bool> AddAsync(ApiKeyRecord key, AuditRecord audit, CancellationToken cancellationToken);

    Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Keys, newest first.</summary>
    Task<Page<ApiKeyRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the key with id <paramref name="idOrName"/>, or else the one not yet revoked with that name; returns it,
    /// or null when there is no such key that is not revoked already.
    /// </summary>
    Task<ApiKeyRecord?> RevokeAsync(string idOrName, DateTimeOffset now, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>Whether any key is usable at <paramref name="now"/>: the safe default serves loopback only until one is.</summary>
    Task<bool> AnyActiveAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>An API key row as both providers store it.</summary>
internal sealed record ApiKeyRow(string Id, string Name, string Role, string Salt, string SecretHash, string CreateTime, string? ExpireTime, string? RevokeTime, string CreatedBy)
{
    public const string Columns = "id, name, role, salt, secret_hash AS SecretHash, create_time AS CreateTime, expire_time AS ExpireTime, revoke_time AS RevokeTime, created_by AS CreatedBy";

    public const string Insert = "INSERT INTO api_keys (id, name, role, salt, secret_hash, create_time, expire_time, revoke_time, created_by) VALUES (@Id, @Name, @Role, @Salt, @SecretHash, @CreateTime, @ExpireTime, NULL, @CreatedBy)";

    /// <summary>The id, or else the name of a key not yet revoked; ids and names cannot collide (ids start with "k", names may too, so the id wins).</summary>
    public const string SelectRevocable = "SELECT " + Columns + " FROM api_keys WHERE revoke_time IS NULL AND (id = @key OR name = @key) ORDER BY CASE WHEN id = @key THEN 0 ELSE 1 END LIMIT 1";

    public const string SelectAnyActive = "SELECT COUNT(*) FROM api_keys WHERE revoke_time IS NULL AND (expire_time IS NULL OR expire_time > @now)";

    public ApiKeyRecord ToRecord() => new(Id, Name, Enum.Parse<Role>(Role, ignoreCase: true), Salt, SecretHash, Ids.ParseTimestamp(CreateTime),
        ExpireTime is null ? null : Ids.ParseTimestamp(ExpireTime), RevokeTime is null ? null : Ids.ParseTimestamp(RevokeTime), CreatedBy);

    public static object Parameters(ApiKeyRecord k) => new
    {
        k.Id,
        k.Name,
        Role = k.Role.ToString().ToLowerInvariant(),
        k.Salt,
        k.SecretHash,
        CreateTime = Ids.Timestamp(k.CreateTime),
        ExpireTime = k.ExpireTime is { } e ? Ids.Timestamp(e) : null,
        k.CreatedBy,
    };
}
