using Advisor.V1;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace Advisor.Bot.AdvisorClient;

public static class AdvisorClientRegistration
{
    /// <summary>
    /// Typed gRPC clients through Grpc.Net.ClientFactory. Retries (on UNAVAILABLE only, a few quick attempts) are
    /// limited to calls that are safe to repeat: the read-only ones, and SubmitFeedback, which always carries a
    /// request_id so a repeat is stored once.
    /// </summary>
    public static IServiceCollection AddAdvisorClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdvisorClientOptions>()
            .Bind(configuration.GetSection(AdvisorClientOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AdvisorClientOptions>, AdvisorClientOptionsValidator>();
        services.AddSingleton<AdvisorEndpoint>();
        services.AddHostedService(sp => sp.GetRequiredService<AdvisorEndpoint>());
        services.AddSingleton(TimeProvider.System);

        var retry = new RetryPolicy
        {
            MaxAttempts = 3,
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            BackoffMultiplier = 2,
            RetryableStatusCodes = { StatusCode.Unavailable },
        };
        var safeToRetry = new MethodConfig
        {
            Names =
            {
                new MethodName { Service = "advisor.v1.AdvisorService", Method = "Ask" },
                new MethodName { Service = "advisor.v1.AdvisorService", Method = "ClassifyBuyer" },
                new MethodName { Service = "advisor.v1.AdvisorService", Method = "SuggestStrategies" },
                new MethodName { Service = "advisor.v1.AdvisorService", Method = "SubmitFeedback" },
                new MethodName { Service = "advisor.v1.BuyerService", Method = "GetBuyer" },
                new MethodName { Service = "advisor.v1.BuyerService", Method = "SearchBuyers" },
            },
            RetryPolicy = retry,
        };

        void Channel(IServiceProvider sp, Grpc.Net.ClientFactory.GrpcClientFactoryOptions o) =>
            o.Address = sp.GetRequiredService<AdvisorEndpoint>().Address;

        services.AddSingleton<Telemetry.BotMetrics>();
        services.AddSingleton<Telemetry.UpstreamMetricsInterceptor>();
        // No HttpClient request logging on the gRPC channels: its two handlers opened a log scope and checked log
        // levels on every call (a few per cent of a Slack command's CPU), to say what the upstream metrics and the
        // gRPC client's own logs already say. Failures still reach the log through ConversationCore.
        services.AddGrpcClient<AdvisorService.AdvisorServiceClient>(Channel)
            .ConfigureChannel(c => c.ServiceConfig = new ServiceConfig { MethodConfigs = { safeToRetry } })
            .AddInterceptor<Telemetry.UpstreamMetricsInterceptor>()
            .RemoveAllLoggers();
        services.AddGrpcClient<BuyerService.BuyerServiceClient>(Channel)
            .ConfigureChannel(c => c.ServiceConfig = new ServiceConfig { MethodConfigs = { safeToRetry } })
            .AddInterceptor<Telemetry.UpstreamMetricsInterceptor>()
            .RemoveAllLoggers();
        services.AddTransient<AdvisorGateway>();
        return services;
    }
}
