namespace Advisor.Server.Classification;

/// <summary>The domain's view of a buyer's kind; the API maps it to <c>advisor.v1.BuyerKind</c>.</summary>
public enum Kind
{
    Undetermined,
    Client,
    Customer,
    Hybrid,
}
