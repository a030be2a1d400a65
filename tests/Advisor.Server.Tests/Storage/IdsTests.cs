using Advisor.Server.Storage;
using CsCheck;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// Stored times: the hand-written formatter writes what the format string wrote, and reads back exactly. Ids: an
/// import's <see cref="IdSource"/> draws the same UUIDv7 shape as <see cref="Ids.New"/>.
/// </summary>
public sealed class IdsTests
{
    private static readonly Gen<DateTimeOffset> Times =
        from ticks in Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks]
        from offsetMinutes in Gen.Int[-14 * 60, 14 * 60]
        let utc = new DateTime(ticks, DateTimeKind.Utc)
        let offset = TimeSpan.FromMinutes(offsetMinutes)
        where utc.Ticks + offset.Ticks >= DateTime.MinValue.Ticks && utc.Ticks + offset.Ticks <= DateTime.MaxValue.Ticks
        select new DateTimeOffset(utc.Ticks + offset.Ticks, offset);

    [Fact]
    public void Timestamp_equals_the_format_string_and_round_trips() =>
        Times.Sample(time =>
        {
            var text = Ids.Timestamp(time);
            text.ShouldBe(time.UtcDateTime.ToString(Ids.TimestampFormat, System.Globalization.CultureInfo.InvariantCulture));
            Ids.ParseTimestamp(text).ShouldBe(time);
        });

    [Fact]
    public void An_id_is_its_prefix_and_the_Guid_s_own_N_text() =>
        Gen.Byte.Array[16].Sample(bytes =>
        {
            var guid = new Guid(bytes);
            Ids.Format("b", guid).ShouldBe("b_" + guid.ToString("N"));
        });

    [Fact]
    public void An_id_source_draws_distinct_version_7_ids_that_carry_their_time_like_Ids_New()
    {
        var source = new IdSource("i");
        var start = new DateTimeOffset(2026, 11, 28, 14, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 5000).Select(n => (Time: start.AddMilliseconds(n / 3), Id: source.Next(start.AddMilliseconds(n / 3)))).ToList();

        ids.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count().ShouldBe(ids.Count, "more than one refill of random bits, none repeated");
        foreach (var (time, id) in ids)
        {
            id.ShouldMatch("^i_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$");
            var guid = Guid.ParseExact(id[2..], "N");
            guid.Version.ShouldBe(7);
            Ids.Format("i", guid).ShouldBe(id, "the hex the source writes is the Guid's own text");
            Convert.ToInt64(id[2..14], 16).ShouldBe(time.ToUnixTimeMilliseconds());
        }

        var usual = Ids.New("i");
        usual.ShouldMatch("^i_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$");
        ids.Select(i => i.Id[..14]).ShouldBeInOrder(SortDirection.Ascending, StringComparer.Ordinal, "ids sort by their time");
    }

    [Fact]
    public void A_shared_source_draws_ids_that_each_sort_after_the_last_within_a_millisecond_and_when_the_clock_goes_back()
    {
        var source = new SharedIdSource("c");
        var start = new DateTimeOffset(2026, 11, 29, 3, 0, 0, TimeSpan.Zero);
        // 100 ids per millisecond for 20 milliseconds, then the clock back by 5 ms for 2,000 more: every id still after the last.
        var times = Enumerable.Range(0, 4000).Select(n => n < 2000 ? start.AddMilliseconds(n / 100) : start.AddMilliseconds(14 + ((n - 2000) / 400))).ToList();
        var ids = times.Select(source.Next).ToList();

        for (var n = 1; n < ids.Count; n++)
        {
            string.CompareOrdinal(ids[n], ids[n - 1]).ShouldBePositive($"id {n} sorts after id {n - 1}");
        }

        for (var n = 0; n < ids.Count; n++)
        {
            ids[n].ShouldMatch("^c_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$");
            Guid.ParseExact(ids[n][2..], "N").Version.ShouldBe(7);
            // The time part is the call's time, or the last id's when the clock went back.
            Convert.ToInt64(ids[n][2..14], 16).ShouldBe(Math.Max(times[n].ToUnixTimeMilliseconds(), start.AddMilliseconds(19).ToUnixTimeMilliseconds() * (n >= 2000 ? 1 : 0)));
        }

        // Within a millisecond the steps are not 1: the next id cannot be told from the last.
        var steps = Enumerable.Range(1, 99).Select(n => UInt128.Parse(ids[n][2..], System.Globalization.NumberStyles.HexNumber) - UInt128.Parse(ids[n - 1][2..], System.Globalization.NumberStyles.HexNumber)).ToList();
        steps.Distinct().Count().ShouldBeGreaterThan(90);
    }
}
