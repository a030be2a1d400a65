using System.Security.Cryptography;

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
/// When full, remembering a reply forgets the one used longest ago, so the newest replies always keep working
/// buttons. (It used a size-limited <c>MemoryCache</c>, which instead refuses new entries once full until a
/// background compaction has run: under a burst of questions the newest answers' buttons said "expired" at once.)
/// </summary>
public sealed class ReplyMemory
{
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    private readonly int _capacity;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // Most recently used first; the map finds an entry's node in O(1).
    private readonly LinkedList<Entry> _order = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byId = new(StringComparer.Ordinal);

    /// <param name="capacity">Replies kept at most.</param>
    /// <param name="lifetime">How long a reply is kept after it was last remembered or recalled.</param>
    public ReplyMemory(int capacity = 10_000, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _lifetime = lifetime ?? TimeSpan.FromHours(6);
        _time = time ?? TimeProvider.System;
    }

    public Reply Remember(Reply reply, ReplySubject subject)
    {
        var id = string.IsNullOrEmpty(reply.Id) ? NewId() : reply.Id;
        var stored = reply with { Id = id };
        var entry = new Entry(id, new RememberedReply(stored, subject), _time.GetUtcNow());
        lock (_gate)
        {
            if (_byId.Remove(id, out var existing))
            {
                _order.Remove(existing);
            }
            else if (_byId.Count >= _capacity && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _byId.Remove(oldest.Value.Id);
            }

            _byId[id] = _order.AddFirst(entry);
        }

        return stored;
    }

    public RememberedReply? Recall(string id)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out var node))
            {
                return null;
            }

            if (now - node.Value.Touched >= _lifetime)
            {
                _order.Remove(node);
                _byId.Remove(id);
                return null;
            }

            // Sliding: a reply people still click on stays.
            node.Value = node.Value with { Touched = now };
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Remembered;
        }
    }

    public static string NewId() => RandomNumberGenerator.GetString(Alphabet, 12);

    private sealed record Entry(string Id, RememberedReply Remembered, DateTimeOffset Touched);
}
