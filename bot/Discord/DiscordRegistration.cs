using Advisor.Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Discord;

public static class DiscordRegistration
{
    public static IServiceCollection AddDiscordAdapter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DiscordOptions>().Bind(configuration.GetSection(DiscordOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DiscordOptions>, DiscordOptionsValidator>();
        services.AddKeyedSingleton(DiscordAdapter.GateKey, (sp, _) =>
        {
            var discord = sp.GetRequiredService<IOptions<DiscordOptions>>().Value;
            return new AnswerGate(discord.ConcurrentAnswers, discord.QueuedAnswers);
        });
        services.AddSingleton(sp => new DiscordSignature(sp.GetRequiredService<IOptions<DiscordOptions>>().Value.PublicKey));
        // Interaction tokens are in webhook URLs: no request logging by the factory.
        services.AddHttpClient<DiscordApiClient>(http => http.Timeout = TimeSpan.FromSeconds(30))
            .AddHttpMessageHandler<RateLimitHandler>()
            .RemoveAllLoggers();
        services.AddTransient<DiscordAdapter>();
        services.AddTransient<DiscordCommandRegistrar>();
        return services;
    }

    public static IEndpointRouteBuilder MapDiscordEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/discord/interactions", async (HttpRequest request, DiscordAdapter adapter, IOptions<DiscordOptions> options, CancellationToken ct) =>
            options.Value.IsEnabled ? await adapter.InteractionAsync(request, ct) : Results.NotFound());
        return endpoints;
    }
}
