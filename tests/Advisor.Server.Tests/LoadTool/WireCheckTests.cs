using System.Buffers;
using Advisor.LoadTest;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The load tool checks ClassifyBuyer's answers against the message's descriptor instead of building them
/// (<see cref="WireCheck"/>): a real answer must pass and say it carries a classification, and broken bytes must fail
/// the call where the generated parser would refuse them.
/// </summary>
public sealed class WireCheckTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Text = "We are a 40-person logistics company comparing three vendors; procurement needs a quote by Friday and our CFO signs off.";

    [Fact]
    public async Task A_real_answer_over_grpc_passes_and_carries_its_classification()
    {
        var answer = await server.Channel.CreateCallInvoker().AsyncUnaryCall(
            WireCheck.ClassifyBuyer, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken), new ClassifyBuyerRequest { Description = Text });
        answer.Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
    }

    [Fact]
    public async Task Every_cut_of_a_real_answer_is_refused_exactly_when_the_generated_parser_refuses_it()
    {
        var bytes = (await FullAnswerAsync()).ToByteArray();
        bytes.Length.ShouldBeGreaterThan(500, "a full answer with evidence and strategies");
        for (var length = 0; length <= bytes.Length; length++)
        {
            var cut = bytes.AsMemory(0, length);
            var generatedRefuses = Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(cut.Span));
            var checkRefuses = Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(cut), ClassifyBuyerResponse.Descriptor));
            checkRefuses.ShouldBe(generatedRefuses, $"cut at {length} of {bytes.Length} bytes");
        }

        WireCheck.Check(new ReadOnlySequence<byte>(bytes), ClassifyBuyerResponse.Descriptor).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
        WireCheck.Check(ReadOnlySequence<byte>.Empty, ClassifyBuyerResponse.Descriptor).Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeFalse("an empty answer has no classification");
    }

    [Fact]
    public async Task Invalid_utf8_in_a_nested_string_is_refused()
    {
        var answer = await FullAnswerAsync();
        var summary = answer.Classification.Summary;
        summary.ShouldNotBeNullOrEmpty();
        var bytes = answer.ToByteArray();
        var at = bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(summary));
        at.ShouldBeGreaterThan(0);
        bytes[at] = 0xFF;
        Throws(() => WireCheck.Check(new ReadOnlySequence<byte>(bytes), ClassifyBuyerResponse.Descriptor)).ShouldBeTrue();
        Throws(() => ClassifyBuyerResponse.Parser.ParseFrom(bytes)).ShouldBeTrue("the generated parser refuses it too");
    }

    private async Task<ClassifyBuyerResponse> FullAnswerAsync() =>
        await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = Text }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidProtocolBufferException or ArgumentException or System.Text.DecoderFallbackException)
        {
            return true;
        }
    }
}
