using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Security;

/// <summary>A new key: its record, and the key text shown once.</summary>
public sealed record CreatedApiKey(ApiKeyRecord Key, string Secret);

/// <summary>
/// Creates, lists, revokes and checks API keys. The key text is <c>adv_&lt;id&gt;_&lt;secret&gt;</c>: the id finds the
/// row, the secret is checked against a salted SHA-256. The secret is 256 random bits, so a fast hash is enough:
/// slow password hashes protect guessable secrets, and these cannot be guessed.
/// Looked-up rows are cached for <see cref="SecurityOptions.KeyCacheSeconds"/>; revoking here drops the entry at once.
/// </summary>
public sealed partial class ApiKeyService(IApiKeyStore store, IOptions<SecurityOptions> options, TimeProvider time)
{
    public const string Prefix = "adv_";
    public const int MaxNameLength = 64;
    private const int MaxCachedKeys = 10_000;

    private readonly ConcurrentDictionary<string, (ApiKeyRecord? Key, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    private ActiveState? _anyActive;

    public async Task<CreatedApiKey> CreateAsync(string name, Role role, DateTimeOffset? expireTime, string actor, CancellationToken cancellationToken)
    {
        var violations = new Violations();
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || !NamePattern().IsMatch(name))
        {
            violations.Add("name", $"must be 1-{MaxNameLength} letters, digits, dots, dashes or underscores");
        }

        if (!Enum.IsDefined(role))
        {
            violations.Add("role", "must be reader, writer or admin");
        }

        var now = time.GetUtcNow();
        if (expireTime is { } expires && expires <= now)
        {
            violations.Add("expire_time", "must be in the future");
        }

        violations.ThrowIfAny();

        var id = "k" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = Base64Url(RandomNumberGenerator.GetBytes(16));
        var key = new ApiKeyRecord(id, name, role, salt, Hash(salt, secret), now, expireTime, null, actor);
        var audit = new AuditRecord(Ids.New("a"), now, actor, "keys.create", $"{name} ({id})", null,
            $"role {role.ToString().ToLowerInvariant()}" + (expireTime is { } e ? $", expires {Ids.Timestamp(e)}" : ""));
        if (!await store.AddAsync(key, audit, cancellationToken))
        {
            throw new AlreadyExistsException($"A key named '{name}' exists and is not revoked; revoke it first or choose another name.");
        }

        Volatile.Write(ref _anyActive, null);
        return new CreatedApiKey(key, $"{Prefix}{id}_{secret}");
    }

    public Task<Page<ApiKeyRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        store.ListAsync(pageSize, pageToken, cancellationToken);

    /// <summary>Revokes by id or name; effective on this server at once.</summary>
    public async Task<ApiKeyRecord> RevokeAsync(string idOrName, string actor, CancellationToken cancellationToken)
    {
        new Violations().RequireText(idOrName, "key", 200).ThrowIfAny();
        var now = time.GetUtcNow();
        var revoked = await store.RevokeAsync(idOrName, now, new AuditRecord(Ids.New("a"), now, actor, "keys.revoke", idOrName, null, null), cancellationToken)
            ?? throw new NotFoundException("API key", idOrName);
        _cache.TryRemove(revoked.Id, out _);
        Volatile.Write(ref _anyActive, null);
        return revoked;
    }

    /// <summary>The caller a key text belongs to, or null when it is malformed, unknown, wrong, revoked or expired (all alike to the caller).</summary>
    public async Task<Caller?> AuthenticateAsync(string keyText, CancellationToken cancellationToken)
    {
        if (!keyText.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = keyText.AsSpan(Prefix.Length);
        var cut = rest.IndexOf('_');
        if (cut is <= 0 or > 32)
        {
            return null;
        }

        var id = rest[..cut].ToString();
        var secret = rest[(cut + 1)..].ToString();
        var key = await LookupAsync(id, cancellationToken);
        var now = time.GetUtcNow();
        if (key is null || !key.IsActive(now))
        {
            return null;
        }

        var expected = Encoding.ASCII.GetBytes(key.SecretHash);
        var actual = Encoding.ASCII.GetBytes(Hash(key.Salt, secret));
        return CryptographicOperations.FixedTimeEquals(expected, actual) ? new Caller(key.Name, key.Role, key.Id) : null;
    }

    /// <summary>Whether any usable key exists; cached like keys, so the safe default costs no query per call.</summary>
    public async Task<bool> AnyActiveAsync(CancellationToken cancellationToken)
    {
        if (CachedAnyActive() is { } cached)
        {
            return cached;
        }

        var now = time.GetUtcNow();
        var any = await store.AnyActiveAsync(now, cancellationToken);
        Volatile.Write(ref _anyActive, new ActiveState(any, now.AddSeconds(options.Value.KeyCacheSeconds)));
        return any;
    }

    /// <summary>
    /// <see cref="AnyActiveAsync"/>'s cached answer while it is fresh, else null (then ask <see cref="AnyActiveAsync"/>):
    /// for the auth check, which runs on every keyless call and finishes without a task or a cancellation token when this
    /// answers.
    /// </summary>
    public bool? CachedAnyActive() =>
        Volatile.Read(ref _anyActive) is { } cached && cached.Until > time.GetUtcNow() ? cached.Any : null;

    private async Task<ApiKeyRecord?> LookupAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(id, out var entry) && entry.Until > now)
        {
            return entry.Key;
        }

        var key = await store.GetAsync(id, cancellationToken);
        if (options.Value.KeyCacheSeconds > 0)
        {
            if (_cache.Count >= MaxCachedKeys)
            {
                // Unknown ids are cached too (so guessing costs no queries); a flood of them must not grow memory.
                _cache.Clear();
            }

            _cache[id] = (key, now.AddSeconds(options.Value.KeyCacheSeconds));
        }

        return key;
    }

    private static string Hash(string salt, string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(salt + ":" + secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record ActiveState(bool Any, DateTimeOffset Until);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
