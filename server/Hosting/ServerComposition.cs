using Advisor.Server.Api;
using Advisor.Server.Buyers;
using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Rules;
using Advisor.Server.Security;
using Advisor.Server.Storage;
using Advisor.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Advisor.Server.Hosting;

/// <summary>Composition root: one call per feature, each defined next to the feature it wires.</summary>
public static class ServerComposition
{
    public static WebApplicationBuilder AddAdvisorServer(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AdvisorMetrics>();
        builder.AddAdvisorTelemetry("advisor-server", AdvisorMetrics.MeterName);
        builder.AddAdvisorStorage();
        builder.AddAdvisorCore();
        builder.AddAdvisorRules();
        builder.AddAdvisorSecurity();
        builder.AddAdvisorApi();
        builder.AddAdvisorBuyers();
        return builder;
    }

    public static WebApplicationBuilder AddAdvisorCore(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DataOptions>().Bind(builder.Configuration.GetSection(DataOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => new SnapshotHolder(SnapshotLoader.LoadShipped(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DataOptions>>().Value.Directory)));
        builder.Services.AddSingleton<AskAnswerer>();
        builder.Services.TryAddSingleton<IBuyerDirectory, NoBuyerDirectory>();
        builder.Services.TryAddSingleton<IRegisteredBuyerClassifier, NoRegisteredBuyers>();
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddHostedService<AdvisorInitializer>();
        builder.Services.AddOptions<Rules.RuleSetWatchOptions>().Bind(builder.Configuration.GetSection(Rules.RuleSetWatchOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<Rules.LiveRuleSetWatcher>();
        return builder;
    }

    public static WebApplicationBuilder AddAdvisorApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc(options =>
        {
            // Order matters: the logger is outermost so it records the status the error mapper (or the auth check) chose;
            // auth runs before any service code, so a refused caller learns nothing about the resource it named.
            options.Interceptors.Add<RequestLoggingInterceptor>();
            options.Interceptors.Add<ConcurrencyLimitInterceptor>();
            options.Interceptors.Add<AuthInterceptor>();
            options.Interceptors.Add<ErrorInterceptor>();
            options.EnableDetailedErrors = false;
            options.MaxReceiveMessageSize = 4 * 1024 * 1024;
        });
        // Malformed request bytes answer INVALID_ARGUMENT instead of UNKNOWN: the framework's binder is replaced by
        // one that guards every request marshaller (services are still bound through their generated BindService).
        builder.Services.RemoveAll(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>));
        builder.Services.AddSingleton(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>), typeof(GuardedServiceMethodProvider<>));
        // One admission limit for the whole server (interceptors are created per call; the limit must not be).
        builder.Services.AddOptions<ServerLimitsOptions>().Bind(builder.Configuration.GetSection(ServerLimitsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ConcurrencyLimitInterceptor>();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<ReadinessHealthCheck>("advisor");
        return builder;
    }

    public static WebApplication MapAdvisorServer(this WebApplication app)
    {
        app.MapGrpcService<AdvisorGrpcService>();
        app.MapGrpcService<KnowledgeGrpcService>();
        app.MapGrpcService<RulesGrpcService>();
        app.MapGrpcService<ApiKeyGrpcService>();
        app.MapAdvisorBuyers();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapAdvisorMetrics();
        return app;
    }
}
