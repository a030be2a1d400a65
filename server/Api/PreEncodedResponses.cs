using Advisor.Server.Api.Wire;
using Advisor.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// Response marshallers that write parts encoded once instead of on every answer. ClassifyBuyer's full view carries up
/// to three strategies (about 2 KB of the 3 KB answer): the generated serializer measures their text three times (the
/// response, the classification and each strategy ask their children's sizes) and encodes it once per answer; here each
/// shared strategy's bytes, encoded when its message was built (<see cref="StrategyMessages"/>), are copied instead.
/// Evidence items that are the same in every answer naming their rule (the basic view's, and a profile's in the full
/// view) are shared the same way (<see cref="EvidenceMessages"/>): an answer whose every evidence item has bytes encoded
/// once is written with those bytes copied.
/// The bytes written are exactly the generated serializer's (<c>PreEncodedResponsesTests</c>); nothing is cached per
/// answer: every other field is written from the answer built for this call.
/// </summary>
public sealed class PreEncodedResponses(StrategyMessages strategies, EvidenceMessages evidence)
{
    /// <summary>The marshaller to use for a method's responses: a pre-encoding one where there is one, else <paramref name="generated"/>.</summary>
    public Marshaller<TResponse> For<TResponse>(Marshaller<TResponse> generated)
        where TResponse : class =>
        typeof(TResponse) == typeof(ClassifyBuyerResponse)
            ? (Marshaller<TResponse>)(object)new Marshaller<ClassifyBuyerResponse>(WriteClassifyBuyer, ((Marshaller<ClassifyBuyerResponse>)(object)generated).ContextualDeserializer)
            : generated;

    /// <summary>The wire form of an answer: the same fields, the strategies as their encoded bytes.</summary>
    public ClassifyBuyerResponseWire ToWire(ClassifyBuyerResponse response)
    {
        var wire = new ClassifyBuyerResponseWire();
        if (response.Classification is not { } c)
        {
            return wire;
        }

        var w = CopyShared(c, new ClassificationWire());
        w.Evidence.AddRange(c.Evidence);
        wire.Classification = w;
        return wire;
    }

    /// <summary>
    /// The wire form of an answer whose evidence items all have bytes encoded once (the basic view's, a profile's full
    /// view), with the evidence and the strategies as their bytes; <c>null</c> when some item has none (a description's
    /// or a registered buyer's full view, whose spans and interaction ids are built per call).
    /// </summary>
    public ClassifyBuyerResponseEncodedEvidenceWire? ToEncodedEvidenceWire(ClassifyBuyerResponse response)
    {
        if (response.Classification is not { } c || c.Evidence.Count == 0)
        {
            return null;
        }

        // Items with a span or interaction ids (a description's or a registered buyer's full view) are built per call and
        // never kept: such answers fall back on a field read, before anything is built or looked up, since this runs on
        // every ClassifyBuyer answer (a description's kept industry item can sort first, so every item is read).
        foreach (var item in c.Evidence)
        {
            if (item.Span is not null || item.InteractionIds.Count > 0)
            {
                return null;
            }
        }

        var w = new ClassificationEncodedEvidenceWire();
        foreach (var item in c.Evidence)
        {
            // Null only past the table's limit, when items are built per answer.
            if (evidence.Encoded(item) is not { } bytes)
            {
                return null;
            }

            w.Evidence.Add(bytes);
        }

        return new ClassifyBuyerResponseEncodedEvidenceWire { Classification = CopyShared(c, w) };
    }

    /// <summary>Every field but the evidence, with the strategies as their bytes encoded once.</summary>
    private TWire CopyShared<TWire>(Advisor.V1.Classification c, TWire w)
        where TWire : IClassificationWire
    {
        w.Kind = c.Kind;
        w.Confidence = c.Confidence;
        w.Score = c.Score;
        w.RuleSetVersion = c.RuleSetVersion;
        w.Summary = c.Summary;
        w.ClientWeight = c.ClientWeight;
        w.CustomerWeight = c.CustomerWeight;
        w.Industry = c.Industry;
        w.ClassificationId = c.ClassificationId;
        w.OpenQuestions.AddRange(c.OpenQuestions);
        foreach (var strategy in c.Strategies)
        {
            w.Strategies.Add(strategies.Encoded(strategy));
        }

        return w;
    }

    private void WriteClassifyBuyer(ClassifyBuyerResponse response, SerializationContext context)
    {
        if (ToEncodedEvidenceWire(response) is { } encoded)
        {
            context.SetPayloadLength(encoded.CalculateSize());
            encoded.WriteTo(context.GetBufferWriter());
        }
        else
        {
            var wire = ToWire(response);
            context.SetPayloadLength(wire.CalculateSize());
            wire.WriteTo(context.GetBufferWriter());
        }

        context.Complete();
    }
}
