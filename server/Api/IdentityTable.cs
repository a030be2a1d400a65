using System.Runtime.CompilerServices;

namespace Advisor.Server.Api;

/// <summary>
/// A fixed map from objects to values by the objects' identity: open addressing on
/// <see cref="RuntimeHelpers.GetHashCode(object)"/>, at most half full, built once. Why not a dictionary with
/// <see cref="ReferenceEqualityComparer"/>: the answer writer looks up every evidence item of every answer, and under load
/// the comparer's interface calls and the dictionary's entry indirection were cache misses a flat array of pairs avoids
/// (docs/benchmarks.md, "ClassifyBuyer(description) outside classification"). A struct, so the owner holds the array
/// and mask itself: no extra object between the owner and its slots.
/// </summary>
internal readonly struct IdentityTable<TKey, TValue>
    where TKey : class
    where TValue : class
{
    private readonly (TKey? Key, TValue? Value)[] _slots;
    private readonly int _mask;

    /// <param name="entries">Distinct key objects; a value may be null (found, with nothing kept for it).</param>
    public IdentityTable(IReadOnlyCollection<(TKey Key, TValue? Value)> entries)
    {
        _slots = new (TKey?, TValue?)[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, entries.Count * 2))];
        _mask = _slots.Length - 1;
        foreach (var (key, value) in entries)
        {
            var at = RuntimeHelpers.GetHashCode(key) & _mask;
            while (_slots[at].Key is { } taken)
            {
                if (ReferenceEquals(taken, key))
                {
                    throw new ArgumentException("the same key object is listed twice", nameof(entries));
                }

                at = (at + 1) & _mask;
            }

            _slots[at] = (key, value);
        }
    }

    /// <summary>Whether <paramref name="key"/> itself (not an equal object) is in the table, and its value.</summary>
    public bool TryGetValue(TKey key, out TValue? value)
    {
        for (var at = RuntimeHelpers.GetHashCode(key) & _mask; _slots[at].Key is { } candidate; at = (at + 1) & _mask)
        {
            if (ReferenceEquals(candidate, key))
            {
                value = _slots[at].Value;
                return true;
            }
        }

        value = null;
        return false;
    }
}
