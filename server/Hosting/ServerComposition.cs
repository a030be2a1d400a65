namespace Advisor.Server.Hosting;

/// <summary>Composition root: one call per feature, each defined next to the feature it wires.</summary>
public static class ServerComposition
{
    public static WebApplicationBuilder AddAdvisorServer(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        return builder;
    }

    public static WebApplication MapAdvisorServer(this WebApplication app)
    {
        app.MapGrpcReflectionService();
        return app;
    }
}
