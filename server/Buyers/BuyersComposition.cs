using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Advisor.Server.Buyers;

/// <summary>Wires the buyer registry: its gRPC service, the name index, reclassification and demo data.</summary>
public static class BuyersComposition
{
    /// <summary>
    /// Registers the registry when the storage provider offers an <see cref="IBuyerStore"/> (call after storage);
    /// without one, Ask and ClassifyBuyer keep their "unknown buyer" answers.
    /// </summary>
    public static WebApplicationBuilder AddAdvisorBuyers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        if (!HasBuyerStore(services))
        {
            return builder;
        }

        services.AddOptions<BuyerOptions>().Bind(builder.Configuration.GetSection(BuyerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DemoOptions>().Bind(builder.Configuration.GetSection(DemoOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RegistryActivity>();
        services.AddSingleton<RegistryClassifier>();
        services.RemoveAll<IRegisteredBuyerClassifier>();
        services.AddSingleton<IRegisteredBuyerClassifier>(sp => sp.GetRequiredService<RegistryClassifier>());
        services.AddSingleton<BuyerNameIndex>();
        services.AddSingleton<NameIndexFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<NameIndexFeed>());
        services.RemoveAll<IBuyerDirectory>();
        services.AddSingleton<IBuyerDirectory, RegistryBuyerDirectory>();
        services.AddSingleton<InteractionImporter>();
        services.AddSingleton<DemoRegistry>();
        services.AddHostedService<DemoSeeder>();
        services.AddSingleton<ReclassificationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ReclassificationWorker>());
        return builder;
    }

    public static WebApplication MapAdvisorBuyers(this WebApplication app)
    {
        if (app.Services.GetService<IBuyerStore>() is not null)
        {
            app.MapGrpcService<BuyerGrpcService>();
        }

        return app;
    }

    private static bool HasBuyerStore(IServiceCollection services) => services.Any(d => d.ServiceType == typeof(IBuyerStore));
}
