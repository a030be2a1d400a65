namespace Advisor.Server.Security;

/// <summary>Wires API keys, the auth interceptor's services and the start-up check of the safe default.</summary>
public static class SecurityComposition
{
    /// <summary>Call after the core (migrations run first, so the start-up check can read the keys).</summary>
    public static WebApplicationBuilder AddAdvisorSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().Bind(builder.Configuration.GetSection(SecurityOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<KeyRateLimiter>();
        builder.Services.AddHostedService<SecurityStartupCheck>();
        return builder;
    }
}
