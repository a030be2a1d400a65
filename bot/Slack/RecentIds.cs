namespace Advisor.Bot.Slack;

/// <summary>
/// The last N ids seen (Slack event_ids), so a retried delivery is acknowledged but not answered twice.
/// Bounded: the oldest id is forgotten when a new one arrives at capacity (Slack retries within minutes).
/// </summary>
public sealed class RecentIds(int capacity = 10_000)
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>True the first time an id is seen.</summary>
    public bool TryAdd(string id)
    {
        lock (_lock)
        {
            if (!_ids.Add(id))
            {
                return false;
            }

            _order.Enqueue(id);
            while (_order.Count > capacity)
            {
                _ids.Remove(_order.Dequeue());
            }

            return true;
        }
    }
}
