using Advisor.Server.Errors;
using Advisor.Server.Security;
using Advisor.Server.Storage;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>advisor.v1.ApiKeyService: thin over <see cref="Security.ApiKeyService"/>; the policy table makes it admin only.</summary>
public sealed class ApiKeyGrpcService(Security.ApiKeyService keys) : V1.ApiKeyService.ApiKeyServiceBase
{
    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context)
    {
        // The domain validates name, role and expiry together, so one answer lists every problem; only a time
        // protobuf cannot represent is refused first, since it cannot be converted to be checked.
        if (request.ExpireTime is { } expires && !expires.IsValidTime())
        {
            throw RequestValidationException.For("expire_time", "must be a valid time between 0001-01-01 and 9999-12-31");
        }

        var created = await keys.CreateAsync(request.Name, (Role)(int)request.Role, request.ExpireTime?.ToDateTimeOffset(), Caller.Of(context).Name, context.CancellationToken);
        return new CreateApiKeyResponse { ApiKey = created.Key.ToProto(), Secret = created.Secret };
    }

    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context)
    {
        new Violations().PageSize(request.PageSize, 200).ThrowIfAny();
        var page = await keys.ListAsync(request.PageSize == 0 ? 50 : request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListApiKeysResponse { NextPageToken = page.NextPageToken };
        response.ApiKeys.AddRange(page.Items.Select(k => k.ToProto()));
        return response;
    }

    public override async Task<V1.ApiKey> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context) =>
        (await keys.RevokeAsync(request.Key, Caller.Of(context).Name, context.CancellationToken)).ToProto();
}

/// <summary>API key mapping to the contract; the role numbers are the same on both sides.</summary>
public static class ApiKeyMapping
{
    public static V1.ApiKey ToProto(this ApiKeyRecord k)
    {
        var proto = new V1.ApiKey
        {
            Id = k.Id,
            Name = k.Name,
            Role = (ApiKeyRole)(int)k.Role,
            CreateTime = k.CreateTime.ToTimestamp(),
            CreatedBy = k.CreatedBy,
        };
        if (k.ExpireTime is { } expires)
        {
            proto.ExpireTime = expires.ToTimestamp();
        }

        if (k.RevokeTime is { } revoked)
        {
            proto.RevokeTime = revoked.ToTimestamp();
        }

        return proto;
    }
}
