using Advisor.Server.Api;

namespace Advisor.Server.Tests.Api;

/// <summary>
/// The answer writer's identity tables: a key is found only as the very object it was stored as (an equal string made
/// elsewhere is not), a stored null value is found as such (so the caller does not fall back), and a table with many
/// colliding entries still finds every one.
/// </summary>
public sealed class IdentityTableTests
{
    [Fact]
    public void Finds_the_stored_object_and_not_an_equal_one()
    {
        var stored = new string('r', 3);
        var table = new IdentityTable<string, string>([(stored, "kept")]);

        Assert.True(table.TryGetValue(stored, out var value));
        Assert.Equal("kept", value);
        Assert.False(table.TryGetValue(new string('r', 3), out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public void A_stored_null_value_is_found()
    {
        var key = new object();
        var table = new IdentityTable<object, string>([(key, null)]);

        Assert.True(table.TryGetValue(key, out var value));
        Assert.Null(value);
    }

    [Fact]
    public void Every_one_of_many_entries_is_found_and_others_are_not()
    {
        var keys = Enumerable.Range(0, 1_000).Select(_ => new object()).ToList();
        var table = new IdentityTable<object, string>([.. keys.Select((key, i) => (key, (string?)i.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);

        for (var i = 0; i < keys.Count; i++)
        {
            Assert.True(table.TryGetValue(keys[i], out var value));
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }

        Assert.All(Enumerable.Range(0, 1_000).Select(_ => new object()), other => Assert.False(table.TryGetValue(other, out _)));
    }

    [Fact]
    public void The_same_key_object_twice_is_refused()
    {
        var key = new object();
        Assert.Throws<ArgumentException>(() => new IdentityTable<object, string>([(key, "a"), (key, "b")]));
    }
}
