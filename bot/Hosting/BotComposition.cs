using Advisor.Bot.AdvisorClient;
using Advisor.Bot.Conversation;
using Advisor.Bot.Terminal;
using Spectre.Console;

namespace Advisor.Bot.Hosting;

/// <summary>Composition root: one call per feature, each defined next to the feature it wires.</summary>
public static class BotComposition
{
    /// <summary>Everything every mode needs: the advisor client, the conversation core, the console front end.</summary>
    public static IServiceCollection AddAdvisorBotCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAdvisorClient(configuration);
        services.AddSingleton(_ => new ReplyMemory());
        services.AddTransient<ConversationCore>();
        services.AddSingleton(AnsiConsole.Console);
        services.AddTransient<ConsoleChat>();
        services.AddSingleton<BackgroundWork>();
        services.AddHostedService(sp => sp.GetRequiredService<BackgroundWork>());
        services.AddTransient<RateLimitHandler>();
        return services;
    }
}
