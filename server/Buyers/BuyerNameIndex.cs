using System.Buffers;
using System.Text;
using Advisor.Server.Storage;

namespace Advisor.Server.Buyers;

/// <summary>How a name matched a search.</summary>
public enum NameMatchKind
{
    /// <summary>Only similar (typos, missing letters).</summary>
    Fuzzy,

    /// <summary>Every word of the query starts a word of the name ("acme" → "Acme Corp", "north trad" → "Northwind Traders").</summary>
    WordPrefix,

    /// <summary>The name starts with the query.</summary>
    Prefix,

    /// <summary>The query is the name or one of its aliases (ignoring case and punctuation).</summary>
    Exact,
}

/// <summary>One search result: the buyer, the name that matched (display name or alias), how, and a score (higher is better).</summary>
public sealed record NameMatch(string BuyerId, string DisplayName, string MatchedName, NameMatchKind Kind, double Score);

/// <summary>
/// In-memory name search over every buyer's display name and aliases, for autocomplete and Ask: typo-tolerant
/// (trigram candidates), prefix-aware (word-start padding, and an unpadded last query word), best first.
/// Candidates are found by counting shared trigrams; only a small candidate set is scored with FuzzySharp.
/// Kept current by <see cref="Apply"/> from the store's change feed. Reads run in parallel; applying takes a write lock.
/// </summary>
public sealed class BuyerNameIndex : IDisposable
{
    private const int CandidateCount = 64;
    private const int MinFuzzyScore = 60;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly List<Entry?> _entries = [];
    private readonly Dictionary<string, int> _slotById = new(StringComparer.Ordinal);
    private readonly Dictionary<long, List<int>> _postings = [];
    private long _sequence;
    private int _dead;

    /// <summary>The change-feed position the index reflects.</summary>
    public long Sequence
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _sequence;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Number of buyers indexed.</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _slotById.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Applies change-feed entries (ascending); entries at or below the current sequence are ignored.</summary>
    public void Apply(IReadOnlyList<BuyerNameChange> changes)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var change in changes)
            {
                if (change.Sequence <= _sequence)
                {
                    continue;
                }

                _sequence = change.Sequence;
                Remove(change.BuyerId);
                if (!change.Deleted && change.DisplayName is not null)
                {
                    Add(change.BuyerId, change.DisplayName, change.Aliases);
                }
            }

            if (_dead > 1024 && _dead > _slotById.Count)
            {
                Compact();
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>The best matches for <paramref name="query"/>, best first, one per buyer.</summary>
    public IReadOnlyList<NameMatch> Search(string query, int limit)
    {
        var normalised = Normalise(query);
        if (normalised.Length == 0 || limit <= 0)
        {
            return [];
        }

        var words = normalised.Split(' ');
        var open = !char.IsWhiteSpace(query[^1]) && char.IsLetterOrDigit(query[^1]);
        var grams = new HashSet<long>();
        for (var i = 0; i < words.Length; i++)
        {
            AddGrams(words[i], closed: !open || i < words.Length - 1, grams);
        }

        _lock.EnterReadLock();
        int[]? counts = null;
        try
        {
            counts = ArrayPool<int>.Shared.Rent(_entries.Count);
            Array.Clear(counts, 0, _entries.Count);
            foreach (var gram in grams)
            {
                if (_postings.TryGetValue(gram, out var slots))
                {
                    foreach (var slot in slots)
                    {
                        counts[slot]++;
                    }
                }
            }

            var candidates = TopSlots(counts, _entries.Count, CandidateCount);
            var best = new Dictionary<string, NameMatch>(StringComparer.Ordinal);
            foreach (var slot in candidates)
            {
                if (_entries[slot] is not { } entry)
                {
                    continue;
                }

                for (var n = 0; n < entry.NameCount; n++)
                {
                    var match = Score(normalised, words, open, entry, entry.Name(n));
                    if (match is not null && (!best.TryGetValue(entry.Id, out var current) || match.Score > current.Score))
                    {
                        best[entry.Id] = match;
                    }
                }
            }

            return best.Values
                .OrderByDescending(m => m.Score)
                .ThenBy(m => m.DisplayName.Length)
                .ThenBy(m => m.DisplayName, StringComparer.OrdinalIgnoreCase)
                .ThenBy(m => m.BuyerId, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
        }
        finally
        {
            if (counts is not null)
            {
                ArrayPool<int>.Shared.Return(counts);
            }

            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>Lower case, letters and digits only, words separated by one space ("ACME, Inc." → "acme inc").</summary>
    public static string Normalise(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (space && builder.Length > 0)
                {
                    builder.Append(' ');
                }

                space = false;
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (c != '\'' && c != '’')
            {
                space = true;
            }
        }

        return builder.ToString();
    }

    private static NameMatch? Score(string query, string[] words, bool open, Entry entry, string name)
    {
        // Normalised here, for the few candidates a search scores, rather than kept for every buyer (memory).
        var key = Normalise(name);
        if (key == query)
        {
            return new NameMatch(entry.Id, entry.DisplayName, name, NameMatchKind.Exact, 1000);
        }

        if (key.StartsWith(query, StringComparison.Ordinal) && (open || key.Length == query.Length || key[query.Length] == ' '))
        {
            return new NameMatch(entry.Id, entry.DisplayName, name, NameMatchKind.Prefix, 900 - Math.Min(99, key.Length - query.Length));
        }

        var nameWords = key.Split(' ');
        if (words.All(w => nameWords.Any(nw => nw.StartsWith(w, StringComparison.Ordinal) && (open || nw.Length == w.Length || w != words[^1]))))
        {
            return new NameMatch(entry.Id, entry.DisplayName, name, NameMatchKind.WordPrefix, 800 - Math.Min(99, key.Length - query.Length));
        }

        // Typos: compare with the part of the name as long as the query when the query is a prefix-in-progress.
        var ratio = Math.Max(FuzzySharp.Fuzz.Ratio(query, key), FuzzySharp.Fuzz.PartialRatio(query, key) - 5);
        if (open && key.Length > query.Length)
        {
            ratio = Math.Max(ratio, FuzzySharp.Fuzz.Ratio(query, key[..query.Length]));
        }

        return ratio >= MinFuzzyScore ? new NameMatch(entry.Id, entry.DisplayName, name, NameMatchKind.Fuzzy, ratio * 7) : null;
    }

    private static List<int> TopSlots(int[] counts, int length, int k)
    {
        // Slots with the most shared trigrams; a small selection, not a sort of everything.
        var heap = new PriorityQueue<int, (int Count, int NegSlot)>();
        for (var slot = 0; slot < length; slot++)
        {
            var count = counts[slot];
            if (count == 0)
            {
                continue;
            }

            if (heap.Count < k)
            {
                heap.Enqueue(slot, (count, -slot));
            }
            else if (heap.TryPeek(out _, out var lowest) && count > lowest.Count)
            {
                heap.DequeueEnqueue(slot, (count, -slot));
            }
        }

        var result = new List<int>(heap.Count);
        while (heap.TryDequeue(out var slot, out _))
        {
            result.Add(slot);
        }

        return result;
    }

    private void Add(string id, string displayName, IReadOnlyList<string> aliases)
    {
        var names = aliases.Prepend(displayName).Where(a => Normalise(a).Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var keys = names.Select(Normalise).ToArray();
        var entry = new Entry(id, displayName, names is [var only] && ReferenceEquals(only, displayName) ? null : names);
        var slot = _entries.Count;
        _entries.Add(entry);
        _slotById[id] = slot;
        var grams = new HashSet<long>();
        foreach (var key in keys)
        {
            foreach (var word in key.Split(' '))
            {
                AddGrams(word, closed: true, grams);
            }
        }

        foreach (var gram in grams)
        {
            if (!_postings.TryGetValue(gram, out var list))
            {
                list = [];
                _postings[gram] = list;
            }

            list.Add(slot);
        }
    }

    private void Remove(string id)
    {
        if (_slotById.Remove(id, out var slot))
        {
            _entries[slot] = null;
            _dead++;
        }
    }

    private void Compact()
    {
        var live = _entries.OfType<Entry>().ToList();
        _entries.Clear();
        _slotById.Clear();
        _postings.Clear();
        _dead = 0;
        foreach (var entry in live)
        {
            Add(entry.Id, entry.DisplayName, entry.Names?.Skip(1).ToList() ?? []);
        }
    }

    /// <summary>Trigrams of a word padded with two spaces in front (so word starts weigh more) and, when closed, one behind.</summary>
    private static void AddGrams(string word, bool closed, HashSet<long> grams)
    {
        if (word.Length == 0)
        {
            return;
        }

        var padded = "  " + word + (closed ? " " : "");
        for (var i = 0; i + 3 <= padded.Length; i++)
        {
            grams.Add(((long)padded[i] << 32) | ((long)padded[i + 1] << 16) | padded[i + 2]);
        }
    }

    /// <summary>
    /// One buyer. Kept small because there is one per buyer (100,000 and more): normalised keys and words are
    /// recomputed for the candidates a search scores; <see cref="Names"/> is null when the display name is the only name.
    /// </summary>
    private sealed record Entry(string Id, string DisplayName, string[]? Names)
    {
        public int NameCount => Names?.Length ?? 1;

        public string Name(int n) => Names is null ? DisplayName : Names[n];
    }
}
