using System.Diagnostics;
using Advisor.Server.Telemetry;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Advisor.Server.Api;

/// <summary>
/// One structured log line per call (method, status, latency and rule set version) and the call's
/// request count and latency metrics. Inputs are never logged: descriptions and questions may hold
/// personal or commercial details.
/// </summary>
public sealed partial class RequestLoggingInterceptor(ILogger<RequestLoggingInterceptor> logger, AdvisorMetrics metrics) : Interceptor
{
    /// <remarks>
    /// Not an async method: a call whose work finished synchronously (ClassifyBuyer, Ask) is logged and its task handed
    /// back as it is, without a task and a state machine of this layer's own on every call.
    /// </remarks>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        Task<TResponse> task;
        try
        {
            task = continuation(request, context);
        }
        catch (RpcException ex)
        {
            Log(context, ex.StatusCode, started);
            throw;
        }
        catch (Exception)
        {
            Log(context, StatusCode.OK, started);
            throw;
        }

        if (!task.IsCompleted)
        {
            return AwaitAndLog(task, context, started);
        }

        // As when awaited: an RpcException's code, OK for anything else (the error interceptor inside maps those).
        Log(context, task.Exception?.InnerException is RpcException failed ? failed.StatusCode : StatusCode.OK, started);
        return task;
    }

    private async Task<TResponse> AwaitAndLog<TResponse>(Task<TResponse> task, ServerCallContext context, long started)
    {
        var status = StatusCode.OK;
        try
        {
            return await task;
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        finally
        {
            Log(context, status, started);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            return await continuation(requestStream, context);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        finally
        {
            Log(context, status, started);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        finally
        {
            Log(context, status, started);
        }
    }

    private void Log(ServerCallContext context, StatusCode status, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.RecordCall(context.Method, status, elapsed);
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogCall(logger, context.Method, status, elapsed.TotalMilliseconds, RequestTags.GetRuleSetVersion(context) ?? "-");
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Method} → {Status} in {ElapsedMs:0.000} ms (rules {RuleSetVersion})")]
    private static partial void LogCall(ILogger logger, string method, StatusCode status, double elapsedMs, string ruleSetVersion);
}
