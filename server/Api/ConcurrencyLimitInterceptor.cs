using System.ComponentModel.DataAnnotations;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Advisor.Server.Api;

/// <summary>Configuration section <c>Server</c>: how much work the server takes on at once.</summary>
public sealed class ServerLimitsOptions
{
    public const string Section = "Server";

    /// <summary>Calls handled at the same time; more wait in the queue. Health checks are never limited.</summary>
    [Range(1, 100_000)]
    public int MaxConcurrentCalls { get; set; } = 256;

    /// <summary>Calls that may wait for a slot; past this a call is refused at once with RESOURCE_EXHAUSTED.</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedCalls { get; set; } = 1024;
}

/// <summary>
/// A global admission limit: at most <see cref="ServerLimitsOptions.MaxConcurrentCalls"/> calls run,
/// at most <see cref="ServerLimitsOptions.MaxQueuedCalls"/> wait (each until its own deadline or
/// cancellation), and the rest get RESOURCE_EXHAUSTED straight away, so overload costs bounded memory
/// and never takes the server down. A client may retry later.
/// </summary>
public sealed class ConcurrencyLimitInterceptor : Interceptor, IDisposable
{
    /// <summary>The retry delay suggested to a refused caller: long enough for a burst to drain, short for a person.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _slots;
    private readonly int _maxRunning;
    private readonly int _maxWaiting;
    private int _waiting;

    public ConcurrencyLimitInterceptor(Microsoft.Extensions.Options.IOptions<ServerLimitsOptions> options)
    {
        _maxRunning = options.Value.MaxConcurrentCalls;
        _slots = new SemaphoreSlim(_maxRunning, _maxRunning);
        _maxWaiting = options.Value.MaxQueuedCalls;
    }

    /// <summary>Calls holding a slot now (for tests and diagnostics; a snapshot that may be stale at once).</summary>
    public int Running => _maxRunning - _slots.CurrentCount;

    /// <summary>Calls waiting for a slot now (a snapshot; a refused call may count for an instant).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <remarks>
    /// Not an async method: when a slot is free and the call's work finishes synchronously (ClassifyBuyer, Ask), the slot
    /// is released and the call's own task handed back, without a task and a state machine of this layer's own.
    /// </remarks>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (Exempt(context))
        {
            return continuation(request, context);
        }

        if (!_slots.Wait(0))
        {
            return QueuedAsync(request, context, continuation);
        }

        Task<TResponse> task;
        try
        {
            task = continuation(request, context);
        }
        catch (Exception)
        {
            _slots.Release();
            throw;
        }

        if (task.IsCompleted)
        {
            _slots.Release();
            return task;
        }

        return ReleaseWhenDoneAsync(task);
    }

    private async Task<TResponse> ReleaseWhenDoneAsync<TResponse>(Task<TResponse> task)
    {
        try
        {
            return await task;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>No slot was free at once: wait for one in the queue (or be refused), then run the call.</summary>
    private async Task<TResponse> QueuedAsync<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        await EnterAsync(context);
        try
        {
            return await continuation(request, context);
        }
        finally
        {
            _slots.Release();
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await EnterAsync(context);
        try
        {
            return await continuation(requestStream, context);
        }
        finally
        {
            _slots.Release();
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (Exempt(context))
        {
            await continuation(request, responseStream, context);
            return;
        }

        await EnterAsync(context);
        try
        {
            await continuation(request, responseStream, context);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>Health checks must answer even when the server is full, or a balancer would take it out of service.</summary>
    private static bool Exempt(ServerCallContext context) => context.Method.StartsWith("/grpc.health.v1.", StringComparison.Ordinal);

    private async Task EnterAsync(ServerCallContext context)
    {
        if (_slots.Wait(0))
        {
            return;
        }

        if (Interlocked.Increment(ref _waiting) > _maxWaiting)
        {
            Interlocked.Decrement(ref _waiting);
            var status = new Google.Rpc.Status
            {
                Code = (int)Google.Rpc.Code.ResourceExhausted,
                Message = "The server is at its limit of concurrent calls and its queue is full; retry later.",
            };
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(new Google.Rpc.RetryInfo { RetryDelay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(RetryAfter) }));
            throw status.ToRpcException();
        }

        try
        {
            await _slots.WaitAsync(context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new RpcException(context.Deadline <= DateTime.UtcNow
                ? new Status(StatusCode.DeadlineExceeded, "The deadline passed while the call waited for a slot.")
                : new Status(StatusCode.Cancelled, "The call was cancelled while it waited for a slot."));
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
