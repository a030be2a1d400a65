using Google.Rpc;
using Grpc.Core;

namespace Advisor.Server.Tests.Infrastructure;

public static class RpcAssertions
{
    /// <summary>Asserts INVALID_ARGUMENT with a google.rpc.BadRequest naming <paramref name="field"/>.</summary>
    public static BadRequest ShouldBeInvalidArgument(this RpcException ex, string field)
    {
        ex.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        var status = ex.GetRpcStatus();
        status.ShouldNotBeNull("the error carries a google.rpc.Status");
        var badRequest = status.GetDetail<BadRequest>();
        badRequest.ShouldNotBeNull("the status carries a google.rpc.BadRequest");
        badRequest.FieldViolations.Select(v => v.Field).ShouldContain(field);
        ex.Status.Detail.ShouldNotContain("   at ");
        return badRequest;
    }
}
