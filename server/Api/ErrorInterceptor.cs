using Advisor.Server.Errors;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Advisor.Server.Api;

/// <summary>
/// Maps domain errors to gRPC status codes with google.rpc details, and anything unexpected
/// to INTERNAL with a plain message: callers never see a stack trace, operators find it in the log.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    /// <summary>Longest status message sent; messages may quote the request (an unknown id, a bad path).</summary>
    private const int MaxMessage = 2000;

    /// <summary>Most field violations listed in one answer.</summary>
    private const int MaxViolations = 50;

    /// <summary>Longest field name or description in a violation.</summary>
    private const int MaxFieldText = 300;

    /// <remarks>
    /// Not an async method: a call that succeeded synchronously (ClassifyBuyer, Ask) hands back its own task, without a
    /// task and a state machine of this layer's own on every call; anything else is awaited and mapped as before.
    /// </remarks>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Task<TResponse> task;
        try
        {
            task = continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }

        return task.IsCompletedSuccessfully ? task : MapFailureAsync(task, context);
    }

    private async Task<TResponse> MapFailureAsync<TResponse>(Task<TResponse> task, ServerCallContext context)
    {
        try
        {
            return await task;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RequestValidationException invalid:
                // Violations can echo the caller's input and be many: both are capped so the status fits in HTTP/2
                // trailers (a client refuses headers over 64 KB, which would fail the whole connection).
                var shown = invalid.Violations.Take(MaxViolations).Select(v => new FieldViolation(Cap(v.Field, MaxFieldText), Cap(v.Description, MaxFieldText))).ToList();
                var badRequest = new BadRequest();
                badRequest.FieldViolations.AddRange(shown.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
                var message = new RequestValidationException(shown).Message;
                if (invalid.Violations.Count > shown.Count)
                {
                    // Said first, so it survives the cut to the message limit.
                    message = $"{invalid.Violations.Count} problems, the first {shown.Count} listed. {message}";
                }

                return Status(Code.InvalidArgument, message, Any.Pack(badRequest));
            case NotFoundException notFound:
                return Status(Code.NotFound, notFound.Message, Any.Pack(new ResourceInfo { ResourceType = notFound.Resource, ResourceName = Cap(notFound.Id, MaxFieldText) }));
            case FormatException format:
                return Status(Code.InvalidArgument, format.Message);
            case ConflictException conflict:
                return Status(Code.Aborted, conflict.Message);
            case PreconditionException precondition:
                return Status(Code.FailedPrecondition, precondition.Message);
            case AlreadyExistsException exists:
                return Status(Code.AlreadyExists, exists.Message);
            case OperationCanceledException when context.Deadline <= DateTime.UtcNow:
                return new RpcException(new Grpc.Core.Status(StatusCode.DeadlineExceeded, "The deadline passed before the work finished."));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled."));
            case StoreBusyException or System.Data.Common.DbException { IsTransient: true }:
                // A busy or overloaded database (a SQLite lock held past the busy timeout, which SqliteDatabase reports
                // as StoreBusyException; PostgreSQL out of connections or a deadlock victim): nothing was committed, so
                // the caller may safely retry; say so instead of reporting a bug.
                logger.LogWarning(ex, "Store busy in {Method}", context.Method);
                return Status(Code.Unavailable, "The store is busy; retry shortly.", Any.Pack(new RetryInfo { RetryDelay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }));
            default:
                logger.LogError(ex, "Unhandled error in {Method}", context.Method);
                return new RpcException(new Grpc.Core.Status(StatusCode.Internal, "An internal error occurred. It has been logged."));
        }
    }

    /// <summary>Cuts <paramref name="text"/> to at most <paramref name="max"/> characters without splitting a surrogate pair.</summary>
    private static string Cap(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    private static RpcException Status(Code code, string message, params Any[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = Cap(message, MaxMessage) };
        status.Details.AddRange(details);
        return status.ToRpcException();
    }
}
