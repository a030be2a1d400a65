using Advisor.Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Slack;

public static class SlackRegistration
{
    public static IServiceCollection AddSlackAdapter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SlackOptions>().Bind(configuration.GetSection(SlackOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SlackOptions>, SlackOptionsValidator>();
        services.AddSingleton(_ => new RecentIds());
        services.AddKeyedSingleton(SlackAdapter.GateKey, (sp, _) =>
        {
            var slack = sp.GetRequiredService<IOptions<SlackOptions>>().Value;
            return new AnswerGate(slack.ConcurrentAnswers, slack.QueuedAnswers);
        });
        services.AddHttpClient<SlackApiClient>(http => http.Timeout = TimeSpan.FromSeconds(30))
            .AddHttpMessageHandler<RateLimitHandler>()
            // response_url is a bearer capability: no request logging by the factory.
            .RemoveAllLoggers();
        services.AddTransient<SlackAdapter>();
        return services;
    }

    public static IEndpointRouteBuilder MapSlackEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/slack/commands", async (HttpRequest request, SlackAdapter adapter, IOptions<SlackOptions> options, CancellationToken ct) =>
            options.Value.IsEnabled ? await adapter.CommandAsync(request, ct) : Results.NotFound());
        endpoints.MapPost("/slack/events", async (HttpRequest request, SlackAdapter adapter, IOptions<SlackOptions> options, CancellationToken ct) =>
            options.Value.IsEnabled ? await adapter.EventAsync(request, ct) : Results.NotFound());
        endpoints.MapPost("/slack/interactions", async (HttpRequest request, SlackAdapter adapter, IOptions<SlackOptions> options, CancellationToken ct) =>
            options.Value.IsEnabled ? await adapter.InteractionAsync(request, ct) : Results.NotFound());
        return endpoints;
    }
}
