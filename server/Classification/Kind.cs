namespace Advisor.Server.Classification;

/// <summary>The domain's view of a buyer's kind; the API maps it to <c>advisor.v1.BuyerKind</c>.</summary>
public enum Kind
{
    Undetermined,
    Client,
    Customer,
    Hybrid,
}

/// <summary>Lower-case names of the kinds, as data files and metric labels spell them.</summary>
public static class KindNames
{
    /// <summary>"client", "customer", "hybrid" or "undetermined", without lower-casing a new string on every call.</summary>
    public static string Name(this Kind kind) => kind switch
    {
        Kind.Client => "client",
        Kind.Customer => "customer",
        Kind.Hybrid => "hybrid",
        Kind.Undetermined => "undetermined",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
