namespace Advisor.Server.Storage;

/// <summary>
/// Running totals of one interaction type for one buyer within an import batch, folded into the buyer's
/// aggregate row when the batch commits. First is the earliest <c>occurred_at</c>, the first stored among equals;
/// last is the latest, the last stored among equals. Both providers use this one definition so their aggregates
/// agree; they differ only in how a time is stored (<typeparamref name="TOrder"/> compares it): PostgreSQL keeps
/// ISO text, which compares in time order byte by byte, SQLite ticks since its migration 005.
/// </summary>
internal sealed class InteractionTypeTotals<TTime, TOrder>(TTime firstAt, long firstSeq)
    where TOrder : struct, IComparer<TTime>
{
    public long Count { get; private set; }

    public double AmountTotal { get; private set; }

    public long AmountCount { get; private set; }

    public TTime FirstAt { get; private set; } = firstAt;

    public long FirstSeq { get; private set; } = firstSeq;

    public TTime LastAt { get; private set; } = firstAt;

    public long LastSeq { get; private set; } = firstSeq;

    public void Add(TTime at, long seq, double? amount)
    {
        Count++;
        if (amount is { } a)
        {
            AmountTotal += a;
            AmountCount++;
        }

        if (default(TOrder).Compare(at, FirstAt) < 0)
        {
            FirstAt = at;
            FirstSeq = seq;
        }

        if (default(TOrder).Compare(at, LastAt) >= 0)
        {
            LastAt = at;
            LastSeq = seq;
        }
    }
}

/// <summary>ISO 8601 text in UTC with a fixed width: byte order is time order.</summary>
internal readonly struct OrdinalTextOrder : IComparer<string>
{
    public int Compare(string? x, string? y) => string.CompareOrdinal(x, y);
}

/// <summary>Times as ticks.</summary>
internal readonly struct TicksOrder : IComparer<long>
{
    public int Compare(long x, long y) => x.CompareTo(y);
}
