using System.Net;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Security;

/// <summary>
/// Every call passes here before any service code runs: the key is checked, the method's required role is looked
/// up in <see cref="MethodPolicy"/>, and the key's rate limit is taken. Failing callers learn nothing about the
/// resource they named (the check happens before it is looked at). The key text is never logged or echoed.
/// </summary>
public sealed partial class AuthInterceptor(ApiKeyService keys, KeyRateLimiter limiter, IOptions<SecurityOptions> options, ILogger<AuthInterceptor> logger) : Interceptor
{
    /// <summary>Parsed once: the option is text, and trimming and lower-casing it on every call allocated two strings.</summary>
    private readonly KeyRequirement _requirement = options.Value.Requirement;

    public const string MissingOrInvalid = "A valid API key is required: send 'authorization: Bearer <key>'. Keys are created with the server's 'keys create' command.";

    /// <remarks>
    /// Not an async method: when the check finishes synchronously (an open method, a keyless local caller, a cached key)
    /// the call goes straight on, without a task and a state machine of this layer's own on every call.
    /// </remarks>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(request, context) : ContinueWhenAuthorizedAsync(authorized, request, context, continuation);
    }

    private static async Task<TResponse> ContinueWhenAuthorizedAsync<TRequest, TResponse>(ValueTask authorized, TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        await authorized;
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <remarks>
    /// Not an async method either, nor <see cref="AuthenticateAsync"/>: every reader call (ClassifyBuyer above all) passes
    /// here, and as async methods the two ran two state machines and allocated a <c>Task&lt;Caller&gt;</c> per call even
    /// when the answer was known at once (about 0.4 us of a ClassifyBuyer call's server CPU under the load tool, perf).
    /// A check that fails throws from here as it threw from the awaited task; every layer outside handles both alike.
    /// </remarks>
    private ValueTask AuthorizeAsync(ServerCallContext context)
    {
        if (MethodPolicy.IsOpen(context.Method))
        {
            return ValueTask.CompletedTask;
        }

        var authenticated = AuthenticateAsync(context);
        if (!authenticated.IsCompletedSuccessfully)
        {
            return AdmitWhenAuthenticatedAsync(authenticated, context);
        }

        Admit(context, authenticated.Result);
        return ValueTask.CompletedTask;
    }

    private async ValueTask AdmitWhenAuthenticatedAsync(ValueTask<Caller> authenticated, ServerCallContext context) => Admit(context, await authenticated);

    /// <summary>The role and rate-limit checks for an authenticated caller; stores the caller for the service.</summary>
    private void Admit(ServerCallContext context, Caller caller)
    {
        var required = MethodPolicy.Required(context.Method);
        if (caller.Role < required)
        {
            LogDenied(logger, context.Method, caller.Name, caller.Role);
            throw new RpcException(new Grpc.Core.Status(StatusCode.PermissionDenied,
                $"This key has the {Name(caller.Role)} role; the call needs {Name(required)}."));
        }

        if (caller.KeyId is { } keyId && limiter.TryAcquire(keyId) is { } retryAfter)
        {
            var status = new Google.Rpc.Status
            {
                Code = (int)Code.ResourceExhausted,
                Message = $"Rate limit for this key reached; retry after {Math.Ceiling(retryAfter.TotalMilliseconds)} ms.",
            };
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }));
            throw status.ToRpcException();
        }

        // Caller.Of answers Local when nothing is stored, so the local caller is not stored: storing anything creates the
        // request's Items dictionary, which a keyless deployment would otherwise pay for on every call.
        if (!ReferenceEquals(caller, Caller.Local))
        {
            Caller.Set(context, caller);
        }
    }

    private ValueTask<Caller> AuthenticateAsync(ServerCallContext context)
    {
        var requirement = _requirement;
        if (requirement == KeyRequirement.Never)
        {
            return new(Caller.Local);
        }

        // Read from the request itself: ServerCallContext.RequestHeaders copies every header of the call into a new
        // Metadata collection on first use, which was a measurable part of each authenticated call (profiled).
        var values = context.GetHttpContext().Request.Headers.Authorization;
        var header = values.Count == 0 ? null : values[^1];
        if (header is null)
        {
            // The safe default: with no key anywhere, a caller on this machine is trusted; from elsewhere, never.
            if (requirement != KeyRequirement.Auto || !IsLoopback(context))
            {
                throw Unauthenticated();
            }

            // The cached answer first: context.CancellationToken, which only a query needs, sets up the call's deadline
            // token (a registration per call) on first use.
            if (keys.CachedAnyActive() is { } cached)
            {
                return cached ? throw Unauthenticated() : new(Caller.Local);
            }

            return LocalUnlessAnyKeyAsync(context);
        }

        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw Unauthenticated();
        }

        return KeyCallerAsync(header[scheme.Length..].Trim(), context);
    }

    private async ValueTask<Caller> LocalUnlessAnyKeyAsync(ServerCallContext context) =>
        await keys.AnyActiveAsync(context.CancellationToken) ? throw Unauthenticated() : Caller.Local;

    private async ValueTask<Caller> KeyCallerAsync(string keyText, ServerCallContext context) =>
        await keys.AuthenticateAsync(keyText, context.CancellationToken) ?? throw Unauthenticated();

    private static bool IsLoopback(ServerCallContext context) =>
        context.GetHttpContext().Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    private static RpcException Unauthenticated() => new(new Grpc.Core.Status(StatusCode.Unauthenticated, MissingOrInvalid));

    private static string Name(Role role) => role.ToString().ToLowerInvariant();

    [LoggerMessage(EventId = 50, Level = LogLevel.Information, Message = "Permission denied: {Method} for key {KeyName} ({Role})")]
    private static partial void LogDenied(ILogger logger, string method, string keyName, Role role);
}
