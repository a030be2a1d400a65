using Advisor.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.LoadTest;

/// <summary>
/// One of the fixed ClassifyBuyer requests the load tool sends over and over (a description or a profile, in one view),
/// made once at start with what its calls reuse: the request's encoding, written by the request marshaller instead of
/// encoding the message per call, and the check of its answers against the first one (<see cref="FirstAnswerCheck"/>).
/// Calls are still issued and read through Grpc.Net.Client as before; only the marshallers are this request's own.
/// </summary>
/// <remarks>
/// The request must not be changed after this is made (the tool never changes it): its kept encoding would no longer be
/// what the message says. A message other than this call's own request is encoded as the generated client encodes it.
/// </remarks>
public sealed class ClassifyCall
{
    private readonly byte[] _encoded;

    public ClassifyCall(ClassifyBuyerRequest request)
    {
        Request = request;
        _encoded = request.ToByteArray();
        Answers = new FirstAnswerCheck(WireCheck.ClassifyBuyerResponseSchema);
        Method = new Method<ClassifyBuyerRequest, CheckedResponse>(
            MethodType.Unary,
            AdvisorService.Descriptor.FullName,
            "ClassifyBuyer",
            Marshallers.Create<ClassifyBuyerRequest>(WriteRequest, context => ClassifyBuyerRequest.Parser.ParseFrom(context.PayloadAsReadOnlySequence())),
            Marshallers.Create<CheckedResponse>(
                (_, _) => throw new NotSupportedException("the load tool only reads these messages"),
                context => Answers.Check(context.PayloadAsReadOnlySequence())));
    }

    public ClassifyBuyerRequest Request { get; }

    /// <summary>
    /// ClassifyBuyer with this request's marshallers. One per request, because an answer's check needs to know which
    /// request it answers and a response marshaller sees only the answer's bytes; Grpc.Net.Client keeps what it works out
    /// per method in a dictionary on the channel, one entry per request of a fixed set.
    /// </summary>
    public Method<ClassifyBuyerRequest, CheckedResponse> Method { get; }

    /// <summary>This request's answers: the first one kept, the others compared with it.</summary>
    public FirstAnswerCheck Answers { get; }

    /// <summary>
    /// The request's bytes as encoded once: encoding a description of ~100–300 bytes per call cost the tool ~0.1 µs of its
    /// CPU per call (perf, docs/benchmarks.md), on a machine whose two cores it shares with the server it measures.
    /// </summary>
    private void WriteRequest(ClassifyBuyerRequest message, SerializationContext context)
    {
        if (!ReferenceEquals(message, Request))
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
            return;
        }

        context.SetPayloadLength(_encoded.Length);
        var writer = context.GetBufferWriter();
        _encoded.CopyTo(writer.GetSpan(_encoded.Length));
        writer.Advance(_encoded.Length);
        context.Complete();
    }
}
