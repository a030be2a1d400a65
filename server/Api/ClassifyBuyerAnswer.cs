using Advisor.Server.Classification;
using Advisor.V1;

namespace Advisor.Server.Api;

/// <summary>
/// ClassifyBuyer's answer as the service hands it to its response marshaller: the domain answer itself, not an
/// <c>advisor.v1.ClassifyBuyerResponse</c>. <see cref="PreEncodedResponses"/> writes it straight to the wire, so a full
/// answer no longer builds an <c>advisor.v1.Evidence</c> and a <c>TextSpan</c> (and cuts the span's text) per evidence
/// item per call only to be read once and dropped. <see cref="GuardedServiceMethodProvider{TService}"/> binds the
/// ClassifyBuyer method with this type as its response; the bytes are exactly those of <see cref="ToResponse"/>.
/// </summary>
/// <param name="Classified">The classification and its strategies (none in the basic view).</param>
/// <param name="ClassificationId">The id the classification was logged under.</param>
/// <param name="Full">The full view (explanations, spans, interaction ids, open questions, strategies); otherwise the basic view.</param>
/// <param name="Rules">The rule set the classification was made with: its rules' constant evidence fields are encoded once per rule set.</param>
public sealed record ClassifyBuyerAnswer(ClassifiedBuyer Classified, string ClassificationId, bool Full, CompiledRuleSet Rules)
{
    /// <summary>The answer as the contract's message (what the written bytes decode to).</summary>
    /// <param name="strategies">Where the strategies' messages are kept once built; without it they are built anew.</param>
    public ClassifyBuyerResponse ToResponse(StrategyMessages? strategies = null) => new()
    {
        Classification = Full ? Classified.ToProto(ClassificationId, strategies) : Classified.Result.ToBasicProto(ClassificationId),
    };
}
