using System.Text;
using Advisor.Bot.Slack;

namespace Advisor.Bot.Tests.Slack;

public sealed class SlackSignatureTests
{
    // Slack's worked example from "Verifying requests from Slack".
    private const string PublishedSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const string PublishedTimestamp = "1531420618";
    private const string PublishedBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    private const string PublishedSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    private static readonly DateTimeOffset PublishedTime = DateTimeOffset.FromUnixTimeSeconds(1531420618);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    [Fact]
    public void Accepts_slacks_published_example()
    {
        SlackSignature.Sign(PublishedSecret, PublishedTimestamp, Encoding.UTF8.GetBytes(PublishedBody)).ShouldBe(PublishedSignature);
        SlackSignature.Verify(PublishedSecret, PublishedTimestamp, PublishedSignature, Encoding.UTF8.GetBytes(PublishedBody), PublishedTime.AddSeconds(30), Window).ShouldBeTrue();
    }

    [Fact]
    public void Rejects_the_published_example_once_it_is_older_than_five_minutes()
    {
        SlackSignature.Verify(PublishedSecret, PublishedTimestamp, PublishedSignature, Encoding.UTF8.GetBytes(PublishedBody), PublishedTime.AddMinutes(5).AddSeconds(1), Window).ShouldBeFalse();
        SlackSignature.Verify(PublishedSecret, PublishedTimestamp, PublishedSignature, Encoding.UTF8.GetBytes(PublishedBody), PublishedTime.AddMinutes(-6), Window).ShouldBeFalse();
    }

    [Theory]
    [InlineData("tampered body")]
    [InlineData("wrong secret")]
    [InlineData("wrong timestamp")]
    [InlineData("no prefix")]
    [InlineData("not hex")]
    [InlineData("short")]
    [InlineData("empty")]
    public void Rejects_anything_but_the_exact_signature(string change)
    {
        var body = Encoding.UTF8.GetBytes(PublishedBody);
        var (secret, timestamp, signature) = (PublishedSecret, PublishedTimestamp, PublishedSignature);
        switch (change)
        {
            case "tampered body": body = Encoding.UTF8.GetBytes(PublishedBody + "&text=x"); break;
            case "wrong secret": secret += "x"; break;
            case "wrong timestamp": timestamp = "1531420619"; break;
            case "no prefix": signature = signature[3..]; break;
            case "not hex": signature = "v0=" + new string('z', 64); break;
            case "short": signature = signature[..^2]; break;
            case "empty": signature = ""; break;
        }

        SlackSignature.Verify(secret, timestamp, signature, body, PublishedTime, Window).ShouldBeFalse();
    }

    [Fact]
    public void Accepts_its_own_signature_for_a_fresh_request()
    {
        var now = DateTimeOffset.UtcNow;
        var timestamp = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var body = Encoding.UTF8.GetBytes("""{"type":"event_callback","text":"héllo"}""");
        var signature = SlackSignature.Sign("another-secret", timestamp, body);
        SlackSignature.Verify("another-secret", timestamp, signature, body, now, Window).ShouldBeTrue();
        SlackSignature.Verify("", timestamp, signature, body, now, Window).ShouldBeFalse();
    }

    /// <summary>
    /// The signature is assembled on the stack for ordinary bodies and in a pooled array past a few kilobytes: both
    /// agree with HMAC-SHA256 computed over the whole "v0:{timestamp}:{body}" text, and an uppercase hex header passes.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    [InlineData(4040)]
    [InlineData(4096)]
    [InlineData(70_000)]
    public void Signs_bodies_of_any_size_as_hmac_over_the_whole_text(int length)
    {
        var body = Encoding.UTF8.GetBytes(new string('é', length / 2) + new string('a', length % 2));
        var expected = "v0=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes("sëcret"), (byte[])[.. Encoding.UTF8.GetBytes("v0:1531420618:"), .. body]));

        SlackSignature.Sign("sëcret", PublishedTimestamp, body).ShouldBe(expected);
        SlackSignature.Verify("sëcret", PublishedTimestamp, expected, body, PublishedTime, Window).ShouldBeTrue();
        SlackSignature.Verify("sëcret", PublishedTimestamp, "v0=" + expected[3..].ToUpperInvariant(), body, PublishedTime, Window).ShouldBeTrue();
        SlackSignature.Verify("sëcret", PublishedTimestamp, expected, (byte[])[.. body, (byte)'x'], PublishedTime, Window).ShouldBeFalse();
    }
}
