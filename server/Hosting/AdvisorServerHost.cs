using Microsoft.AspNetCore.Builder;

namespace Advisor.Server.Hosting;

public static class AdvisorServerHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddGrpc();
        var app = builder.Build();
        return app;
    }
}
