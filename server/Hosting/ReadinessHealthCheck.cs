using Advisor.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Advisor.Server.Hosting;

/// <summary>SERVING once knowledge and rules are loaded and the store answers; what a load balancer should ask.</summary>
public sealed class ReadinessHealthCheck(Readiness readiness, IStoreHealth store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!readiness.IsReady)
        {
            return HealthCheckResult.Unhealthy("starting");
        }

        try
        {
            return await store.PingAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("store did not answer");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("store unavailable", ex);
        }
    }
}
