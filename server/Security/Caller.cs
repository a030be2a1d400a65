using Grpc.Core;

namespace Advisor.Server.Security;

/// <summary>What a key may do; each role includes the ones before it.</summary>
public enum Role
{
    Reader = 1,
    Writer = 2,
    Admin = 3,
}

/// <summary>Who is calling: the API key's name and role, or the local caller when keys are not in use.</summary>
public sealed record Caller(string Name, Role Role, string? KeyId)
{
    /// <summary>The caller on a loopback-only server with no keys configured (and the command line).</summary>
    public static readonly Caller Local = new("local", Role.Admin, null);

    private const string ItemKey = "advisor.caller";

    public static void Set(ServerCallContext context, Caller caller) => context.GetHttpContext().Items[ItemKey] = caller;

    /// <summary>The authenticated caller of this call; the auth interceptor always sets it before a service runs.</summary>
    public static Caller Of(ServerCallContext context) =>
        context.GetHttpContext().Items.TryGetValue(ItemKey, out var value) && value is Caller caller ? caller : Local;
}
