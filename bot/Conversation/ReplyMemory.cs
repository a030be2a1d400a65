using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Memory;

namespace Advisor.Bot.Conversation;

/// <summary>What a reply was about, so its buttons can act on it later without the platform sending it back.</summary>
public sealed record ReplySubject
{
    public string Question { get; init; } = "";
    public ReplyKind Kind { get; init; } = ReplyKind.None;
    public string Industry { get; init; } = "";
    public string ClassificationId { get; init; } = "";
    public string BuyerId { get; init; } = "";
    /// <summary>Every piece of evidence, strongest first, already worded for people.</summary>
    public IReadOnlyList<string> Evidence { get; init; } = [];
}

public sealed record RememberedReply(Reply Reply, ReplySubject Subject);

/// <summary>
/// Recent replies by id, bounded in count and age so memory cannot grow without limit. Buttons carry only the id
/// (Discord's custom_id is 100 characters); a button on a forgotten reply gets a polite "ask again".
/// </summary>
public sealed class ReplyMemory : IDisposable
{
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    private readonly MemoryCache _cache;
    private readonly TimeSpan _lifetime;

    public ReplyMemory(int capacity = 10_000, TimeSpan? lifetime = null)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = capacity });
        _lifetime = lifetime ?? TimeSpan.FromHours(6);
    }

    public Reply Remember(Reply reply, ReplySubject subject)
    {
        var id = string.IsNullOrEmpty(reply.Id) ? NewId() : reply.Id;
        var stored = reply with { Id = id };
        _cache.Set(id, new RememberedReply(stored, subject), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = _lifetime });
        return stored;
    }

    public RememberedReply? Recall(string id) => _cache.TryGetValue(id, out RememberedReply? remembered) ? remembered : null;

    public void Dispose() => _cache.Dispose();

    public static string NewId() => RandomNumberGenerator.GetString(Alphabet, 12);
}
