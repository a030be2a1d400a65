using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Advisor.Server.Rules;

/// <summary>Wires the rule set workflow (drafts, backtests, publish, rollback).</summary>
public static class RulesComposition
{
    public static WebApplicationBuilder AddAdvisorRules(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RuleSetOptions>().Bind(builder.Configuration.GetSection(RuleSetOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<IBacktestPopulation, StoredPopulation>();
        builder.Services.AddSingleton<RuleSetService>();
        return builder;
    }
}
