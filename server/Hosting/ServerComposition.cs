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
        // gRPC builds an interceptor for every call unless the container holds it; these hold no per-call state, so one
        // instance each serves every call (no activation, logger lookup or options parsing per call). The admission
        // limit must be a singleton anyway: it is one limit for the whole server.
        builder.Services.AddOptions<ServerLimitsOptions>().Bind(builder.Configuration.GetSection(ServerLimitsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RequestLoggingInterceptor>();
        builder.Services.AddSingleton<ConcurrencyLimitInterceptor>();
        builder.Services.AddSingleton<AuthInterceptor>();
        builder.Services.AddSingleton<ErrorInterceptor>();
        builder.Services.AddSingleton<StrategyMessages>();
        builder.Services.AddSingleton<EvidenceEncodings>();
        builder.Services.AddSingleton<PreEncodedResponses>();
        builder.Services.AddSingleton<RequestTags>();
        builder.Services.AddSingleton<AdvisorGrpcService>();
        builder.Services.AddGrpcReflection();
        // A singleton, so the store answer it shares outlives one check (AddCheck<T> uses the registered instance).
        builder.Services.AddSingleton<ReadinessHealthCheck>();
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
