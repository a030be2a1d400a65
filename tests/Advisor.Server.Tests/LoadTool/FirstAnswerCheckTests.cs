using System.Buffers;
using System.Text;
using Advisor.LoadTest;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The load tool proves an answer to a request it sent before by comparing it with the first answer to that request
/// (<see cref="FirstAnswerCheck"/>) instead of walking it: it must accept and refuse exactly what the full walk
/// (<see cref="DescriptorWalk"/>, the reference) accepts and refuses and report the same fields, and it must call an
/// answer different from the first exactly when it is not what the server's writer writes for the first answer with
/// another id (judged with the generated parser and serializer).
/// </summary>
public sealed class FirstAnswerCheckTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly string[] Texts =
    [
        "We are a 40-person logistics company comparing three vendors; procurement needs a quote by Friday and our CFO signs off.",
        "Our law firm has advised them for years on a monthly retainer; we meet their partners every week.",
        "One-off purchase of 40 laptops at the lowest price, delivered by Friday, no contract.",
    ];

    [Fact]
    public async Task Answers_to_a_fixed_request_over_grpc_pass_and_a_later_one_is_proven_by_the_comparison()
    {
        var call = new ClassifyCall(new ClassifyBuyerRequest { Description = Texts[0] });
        var invoker = server.Channel.CreateCallInvoker();
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        var first = await invoker.AsyncUnaryCall(call.Method, null, options, call.Request);
        var second = await invoker.AsyncUnaryCall(call.Method, null, options, call.Request);

        first.Has(ClassifyBuyerResponse.ClassificationFieldNumber).ShouldBeTrue();
        call.Answers.HasKept.ShouldBeTrue();
        second.ShouldBeSameAs(first, "the second answer (another classification id) is the kept one's result: compared, not walked");
        second.DiffersFromFirst.ShouldBeFalse();
    }

    [Fact]
    public void The_request_marshaller_writes_its_request_as_the_generated_serializer_does_and_any_other_message_too()
    {
        var call = new ClassifyCall(new ClassifyBuyerRequest { Description = Texts[1], View = ClassificationView.Basic });
        Serialize(call, call.Request).ShouldBe(call.Request.ToByteArray());
        var other = new ClassifyBuyerRequest { Description = Texts[2] };
        Serialize(call, other).ShouldBe(other.ToByteArray(), "a message that is not the call's own request is encoded, not given the kept bytes");
        var profile = new ClassifyCall(new ClassifyBuyerRequest { Profile = SampleData.Profiles[2] });
        Serialize(profile, profile.Request).ShouldBe(profile.Request.ToByteArray());
    }

    [Fact]
    public async Task The_same_answer_with_another_id_is_accepted_with_the_first_answers_fields()
    {
        var (first, second) = await TwoAnswersAsync(Texts[0]);
        first.Classification.ClassificationId.ShouldNotBe(second.Classification.ClassificationId);
        var check = Kept(first.ToByteArray(), out var kept);
        var result = check.Check(new ReadOnlySequence<byte>(second.ToByteArray()));
        result.ShouldBeSameAs(kept);
        result.Fields.ShouldBe(DescriptorWalk.Walk(second.ToByteArray(), ClassifyBuyerResponse.Descriptor));
        check.Check(PayloadSegments.Of(second.ToByteArray(), 7)).ShouldBeSameAs(kept, "an answer in several segments is compared as a whole");
    }

    [Fact]
    public async Task Invalid_utf8_in_the_id_is_refused_as_the_walk_refuses_it()
    {
        var (first, second) = await TwoAnswersAsync(Texts[0]);
        var check = Kept(first.ToByteArray(), out _);
        var bytes = second.ToByteArray();
        var at = IdAt(second);
        foreach (var invalid in new byte[][] { [0xFF], [0xC3], [0x80], [0xED, 0xA0, 0x80] })
        {
            var changed = (byte[])bytes.Clone();
            invalid.CopyTo(changed, at.Start + 1);
            Should.Throw<InvalidDataException>(() => DescriptorWalk.Walk(changed, ClassifyBuyerResponse.Descriptor));
            Should.Throw<InvalidDataException>(() => check.Check(new ReadOnlySequence<byte>(changed)));
        }
    }

    [Fact]
    public async Task An_id_of_another_length_is_accepted_when_the_lengths_around_it_follow_and_refused_when_they_do_not()
    {
        var (first, second) = await TwoAnswersAsync(Texts[1]);
        var check = Kept(first.ToByteArray(), out var kept);
        foreach (var id in new[] { "", "c", "c_" + new string('7', 200), "ein Ärzte-Fall 法律" })
        {
            var written = second.Clone();
            written.Classification.ClassificationId = id;
            var result = check.Check(new ReadOnlySequence<byte>(written.ToByteArray()));
            result.ShouldNotBeSameAs(kept, "another length is walked");
            result.Fields.ShouldBe(kept.Fields);
            result.DiffersFromFirst.ShouldBeFalse($"only the id differs ('{id}')");
        }

        // The id's bytes swapped for a longer id without its length prefixes changed: cut strings past their ends.
        var bytes = second.ToByteArray();
        var at = IdAt(second);
        byte[] longer = [.. bytes.AsSpan(0, at.End), .. "zz"u8, .. bytes.AsSpan(at.End)];
        Should.Throw<InvalidDataException>(() => DescriptorWalk.Walk(longer, ClassifyBuyerResponse.Descriptor));
        Should.Throw<InvalidDataException>(() => check.Check(new ReadOnlySequence<byte>(longer)));
    }

    [Fact]
    public async Task Another_answer_to_the_same_request_is_walked_and_flagged_as_different()
    {
        var (first, _) = await TwoAnswersAsync(Texts[0]);
        var (other, _) = await TwoAnswersAsync(Texts[2]);
        var check = Kept(first.ToByteArray(), out _);
        var result = check.Check(new ReadOnlySequence<byte>(other.ToByteArray()));
        result.DiffersFromFirst.ShouldBeTrue();
        result.Fields.ShouldBe(DescriptorWalk.Walk(other.ToByteArray(), ClassifyBuyerResponse.Descriptor));

        var changedSummary = first.Clone();
        changedSummary.Classification.Summary += ".";
        check.Check(new ReadOnlySequence<byte>(changedSummary.ToByteArray())).DiffersFromFirst.ShouldBeTrue("one more byte in the summary");
        var changedKind = first.Clone();
        changedKind.Classification.Kind = changedKind.Classification.Kind == BuyerKind.Client ? BuyerKind.Customer : BuyerKind.Client;
        check.Check(new ReadOnlySequence<byte>(changedKind.ToByteArray())).DiffersFromFirst.ShouldBeTrue("the same length, another kind");
    }

    [Fact]
    public async Task An_answer_that_reads_the_same_but_is_written_otherwise_around_the_id_is_flagged_as_different()
    {
        // The server writes its answers as the generated serializer does (shortest varints, an empty id left out): one
        // that reads the same but is written otherwise is not what the service answered before.
        var (first, second) = await TwoAnswersAsync(Texts[2]);
        var check = Kept(first.ToByteArray(), out var kept);
        var withoutId = second.Classification.Clone();
        withoutId.ClassificationId = "";
        var id = Encoding.UTF8.GetBytes(second.Classification.ClassificationId);
        id.Length.ShouldBeLessThan(0x80);
        var variants = new Dictionary<string, byte[]>
        {
            ["an empty id written out"] = Answer([.. withoutId.ToByteArray(), 0x62, 0x00], shortest: true),
            ["the id's length in two bytes"] = Answer([.. withoutId.ToByteArray(), 0x62, (byte)(id.Length | 0x80), 0x00, .. id], shortest: true),
            ["the id's tag in two bytes"] = Answer([.. withoutId.ToByteArray(), 0xE2, 0x00, (byte)id.Length, .. id], shortest: true),
            ["the classification's length in one byte more"] = Answer([.. second.Classification.ToByteArray()], shortest: false),
        };
        foreach (var (what, bytes) in variants)
        {
            ClassifyBuyerResponse.Parser.ParseFrom(bytes).Classification.Summary.ShouldBe(first.Classification.Summary, what);
            var result = check.Check(new ReadOnlySequence<byte>(bytes));
            result.Fields.ShouldBe(kept.Fields, what);
            result.DiffersFromFirst.ShouldBeTrue(what);
        }

        static byte[] Answer(byte[] classification, bool shortest)
        {
            var length = new List<byte>();
            for (var value = (uint)classification.Length; ; value >>= 7)
            {
                // Not shortest: two continuation bytes more than the value needs at least (a varint may run to ten bytes).
                var last = value < 0x80 && (shortest || length.Count >= 2);
                length.Add((byte)(last ? value : (value & 0x7F) | 0x80));
                if (last)
                {
                    break;
                }
            }

            return [0x0A, .. length, .. classification];
        }
    }

    [Fact]
    public async Task Answers_checked_on_many_threads_at_once_keep_one_answer_and_none_is_flagged()
    {
        var answers = new List<byte[]>();
        for (var n = 0; n < 8; n++)
        {
            answers.Add((await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = Texts[1] }, cancellationToken: TestContext.Current.CancellationToken)).ToByteArray());
        }

        var check = new FirstAnswerCheck(WireCheck.ClassifyBuyerResponseSchema);
        var results = new CheckedResponse[64];
        Parallel.For(0, results.Length, n => results[n] = check.Check(new ReadOnlySequence<byte>(answers[n % answers.Count])));
        results.ShouldAllBe(r => !r.DiffersFromFirst && r.Has(ClassifyBuyerResponse.ClassificationFieldNumber));
        check.Check(new ReadOnlySequence<byte>(answers[0])).ShouldBeOneOf(results);
    }

    [Fact]
    public async Task Answers_with_bytes_changed_in_and_around_the_id_are_refused_and_flagged_exactly_as_the_references_say()
    {
        // For each text the kept (first) answer and a second answer to the same request (another id, as the server
        // writes it); each sample edits the second: one to three bytes replaced, inserted or deleted, half of them in or
        // next to the id's value, or its id replaced by one of another length or by arbitrary bytes, or the answer
        // swapped for another text's answer.
        var pairs = new List<(byte[] First, byte[] Second, (int Start, int End) Id)>();
        foreach (var text in Texts)
        {
            var (first, second) = await TwoAnswersAsync(text);
            pairs.Add((first.ToByteArray(), second.ToByteArray(), IdAt(second)));
        }

        var near = Gen.OneOf<byte>([0x00, 0x7F, 0x80, 0xFF, 0xC3, 0xE6, 0xED, 0xF0, 0x62, 0x24, 0x0A, (byte)'c', (byte)'_', (byte)'0']);
        var edit = Gen.Select(Gen.Int[0, 2], Gen.Bool, Gen.Int[0, int.MaxValue], Gen.OneOf(Gen.Byte, near));
        var idText = Gen.OneOf(Gen.String[Gen.Char['0', 'z'], 0, 40], Gen.Const("c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f"), Gen.Const("Ärzte 法律 🤝"));
        var change = Gen.Frequency(
            (6, edit.Array[1, 3].Select(edits => (Kind: 0, Edits: edits, Id: "", Other: 0))),
            (2, idText.Select(id => (Kind: 1, Edits: Array.Empty<(int, bool, int, byte)>(), Id: id, Other: 0))),
            (1, Gen.Int[0, Texts.Length - 1].Select(other => (Kind: 2, Edits: Array.Empty<(int, bool, int, byte)>(), Id: "", Other: other))));
        Gen.Select(Gen.Int[0, Texts.Length - 1], change).Sample((which, c) =>
        {
            var (firstBytes, secondBytes, id) = pairs[which];
            byte[] changed;
            if (c.Kind == 1)
            {
                var answer = ClassifyBuyerResponse.Parser.ParseFrom(secondBytes);
                answer.Classification.ClassificationId = c.Id;
                changed = answer.ToByteArray();
            }
            else if (c.Kind == 2)
            {
                changed = pairs[c.Other].Second;
            }
            else
            {
                var bytes = new List<byte>(secondBytes);
                foreach (var (kind, nearId, position, value) in c.Edits)
                {
                    var at = nearId ? Math.Clamp(id.Start - 3 + (position % (id.End - id.Start + 6)), 0, bytes.Count) : position % (bytes.Count + 1);
                    ByteEdit.Apply(bytes, kind, at, value);
                }

                changed = [.. bytes];
            }

            var check = Kept(firstBytes, out _);
            var (refused, fields, differs) = Outcome(() => check.Check(new ReadOnlySequence<byte>(changed)));
            var (referenceRefuses, referenceFields, _) = Outcome(() => new CheckedResponse(DescriptorWalk.Walk(changed, ClassifyBuyerResponse.Descriptor)));
            refused.ShouldBe(referenceRefuses);
            fields.ShouldBe(referenceFields);
            if (!refused)
            {
                differs.ShouldBe(!SameBeyondId(firstBytes, changed));
            }
        }, iter: 20_000);
    }

    /// <summary>
    /// The reference for "the same answer but for its id": the generated parser reads both as the same message once their
    /// ids are cleared, and the changed answer is written exactly as the generated serializer (which the server's
    /// writer matches byte for byte) writes what it reads.
    /// </summary>
    private static bool SameBeyondId(byte[] first, byte[] changed)
    {
        ClassifyBuyerResponse parsed;
        try
        {
            parsed = ClassifyBuyerResponse.Parser.ParseFrom(changed);
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }

        if (!parsed.ToByteArray().AsSpan().SequenceEqual(changed))
        {
            return false;
        }

        var kept = ClassifyBuyerResponse.Parser.ParseFrom(first);
        kept.ToByteArray().ShouldBe(first, "the server writes its answers as the generated serializer does");
        kept.Classification?.ClassificationId = "";
        parsed.Classification?.ClassificationId = "";
        return kept.Equals(parsed);
    }

    /// <summary>A check that has kept <paramref name="first"/>; <paramref name="kept"/> is its result, returned for every answer proven by comparison.</summary>
    private static FirstAnswerCheck Kept(byte[] first, out CheckedResponse kept)
    {
        var check = new FirstAnswerCheck(WireCheck.ClassifyBuyerResponseSchema);
        kept = check.Check(new ReadOnlySequence<byte>(first));
        kept.DiffersFromFirst.ShouldBeFalse();
        check.Check(new ReadOnlySequence<byte>(first)).ShouldBeSameAs(kept);
        return check;
    }

    private async Task<(ClassifyBuyerResponse First, ClassifyBuyerResponse Second)> TwoAnswersAsync(string text)
    {
        var request = new ClassifyBuyerRequest { Description = text };
        var first = await server.Advisor.ClassifyBuyerAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        var second = await server.Advisor.ClassifyBuyerAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        second.Classification.ClassificationId.Length.ShouldBe(first.Classification.ClassificationId.Length);
        second.Classification.ClassificationId.ShouldNotBe(first.Classification.ClassificationId);
        return (first, second);
    }

    /// <summary>Where the id's value lies in the answer's bytes (it is the last field the server writes, and unique).</summary>
    private static (int Start, int End) IdAt(ClassifyBuyerResponse answer)
    {
        var bytes = answer.ToByteArray();
        var id = Encoding.UTF8.GetBytes(answer.Classification.ClassificationId);
        var start = bytes.AsSpan().LastIndexOf(id);
        start.ShouldBeGreaterThan(0);
        return (start, start + id.Length);
    }

    private static (bool Refused, ulong Fields, bool Differs) Outcome(Func<CheckedResponse> check)
    {
        try
        {
            var result = check();
            return (false, result.Fields, result.DiffersFromFirst);
        }
        catch (InvalidDataException)
        {
            return (true, 0, false);
        }
    }

    private static byte[] Serialize(ClassifyCall call, ClassifyBuyerRequest message)
    {
        var context = new BufferSerializationContext();
        call.Method.RequestMarshaller.ContextualSerializer(message, context);
        context.Completed.ShouldBeTrue();
        return context.Buffer.WrittenSpan.ToArray();
    }
}
