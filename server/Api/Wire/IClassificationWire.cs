using Advisor.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Advisor.Server.Api.Wire;

/// <summary>
/// The fields both wire mirrors of <c>advisor.v1.Classification</c> share (all but the evidence, which one holds as
/// messages and the other as bytes), so <see cref="PreEncodedResponses"/> copies them in one place.
/// </summary>
public interface IClassificationWire
{
    BuyerKind Kind { get; set; }

    double Confidence { get; set; }

    double Score { get; set; }

    RepeatedField<string> OpenQuestions { get; }

    RepeatedField<ByteString> Strategies { get; }

    string RuleSetVersion { get; set; }

    string Summary { get; set; }

    double ClientWeight { get; set; }

    double CustomerWeight { get; set; }

    string Industry { get; set; }

    string ClassificationId { get; set; }
}

/// <summary>The generated mirror with evidence as messages.</summary>
public sealed partial class ClassificationWire : IClassificationWire;

/// <summary>The generated mirror with evidence as bytes encoded once.</summary>
public sealed partial class ClassificationEncodedEvidenceWire : IClassificationWire;
