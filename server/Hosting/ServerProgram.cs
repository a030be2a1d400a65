namespace Advisor.Server.Hosting;

public static class ServerProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        var app = AdvisorServerHost.Build(args);
        await app.RunAsync();
        return 0;
    }
}
