using Advisor.Server.Storage;
using CsCheck;

namespace Advisor.Server.Tests.Storage;

/// <summary>Stored times: the hand-written formatter writes what the format string wrote, and reads back exactly.</summary>
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
}
